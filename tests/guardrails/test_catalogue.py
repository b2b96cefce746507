"""The rule catalogue: each rule declared beside its check, once, in a stable order."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from infra.render_format import BUCKET, IAM_USER
from policies.guardrails import rules
from policies.guardrails.model import (
    ADVISORY,
    MANDATORY,
    Catalogue,
    Finding,
    Resource,
    StackContext,
)


def test_every_check_of_the_catalogue_is_declared_as_a_rule() -> None:
    # A check_* function written without its declaration would silently never run.
    checks = {
        function
        for subject in rules.SUBJECTS
        for name, function in inspect.getmembers(subject, inspect.isfunction)
        if name.startswith("check_") and function.__module__ == subject.__name__
    }
    declared: set[object] = {rule.check for rule in rules.RESOURCE_RULES}
    declared |= {rule.check for rule in rules.STACK_RULES}
    assert checks == declared


def test_rule_names_are_unique_and_levels_follow_the_declarations() -> None:
    names = [rule.name for rule in rules.RESOURCE_RULES] + [rule.name for rule in rules.STACK_RULES]
    assert len(names) == len(set(names)) == len(rules.ALL_RULE_NAMES)
    assert list(rules.RULE_LEVELS) == names
    assert set(rules.RULE_LEVELS.values()) == {MANDATORY, ADVISORY}


def test_declaring_a_rule_registers_it_in_order_and_keeps_the_function() -> None:
    catalogue = Catalogue()

    @catalogue.resource("first", MANDATORY, [BUCKET])
    def first(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
        """One."""
        yield Finding("it is a bucket.", "do not make buckets.")

    @catalogue.resource("second", ADVISORY, None)
    def second(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
        """Two.

        More about it."""
        yield from ()

    @catalogue.stack("third", MANDATORY)
    def third(resources: object, ctx: StackContext) -> Iterator[Finding]:
        """Three,
        on two lines."""
        yield Finding("always.", "nothing.")

    assert first.__name__ == "first"  # the decorator hands the function back unchanged
    assert [r.name for r in catalogue.resource_rules] == ["first", "second"]
    assert catalogue.levels() == {"first": MANDATORY, "second": ADVISORY, "third": MANDATORY}
    # The first paragraph of the docstring, as one line, is the description the pack serves.
    described = [r.description for r in catalogue.resource_rules]
    described += [r.description for r in catalogue.stack_rules]
    assert described == ["One.", "Two.", "Three, on two lines."]
    bucket, user = Resource(BUCKET, "b", {}), Resource(IAM_USER, "u", {})
    found = catalogue.check_all([bucket, user], StackContext())
    assert [(v.rule, v.message.split(" breaks")[0]) for v in found] == [
        ("third", "stack"),
        ("first", "S3Bucket 'b'"),
    ]


def _described(resource: object, ctx: StackContext) -> Iterator[Finding]:
    """A rule."""
    yield from ()


def test_a_second_rule_of_the_same_name_is_refused() -> None:
    catalogue = Catalogue()
    catalogue.stack("twice", MANDATORY)(_described)
    with pytest.raises(ValueError, match="two guardrails are named 'twice'"):
        catalogue.resource("twice", ADVISORY, None)(_described)


def test_a_rule_without_a_description_is_refused() -> None:
    with pytest.raises(ValueError, match="has no docstring"):
        Catalogue().stack("silent", MANDATORY)(lambda resources, ctx: ())
