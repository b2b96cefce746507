"""Check and Diff from a provider's schema, as a Terraform-bridged provider computes them.

One :class:`SchemaResource` per resource type: its attributes (:class:`infra.provider_contract.
Attribute`, the facts from the provider's source) decide what Check refuses and fills in and
what Diff reports; its :class:`Operations` decide what happens on the server.

Terraform's rules that decide a deploy's plan, kept here:

- Check fills each unset input that has a schema ``Default``; it refuses an unknown attribute, a
  computed-only one, a missing required one and a value a validator refuses (values a preview
  does not know yet are not validated).
- Diff compares the new inputs with the *stored state* (what the last Create, Update or Read
  wrote), not with the last inputs: what Read reads back differently from what was sent is a
  diff on every plan, unless the program ignores it. An unset input equals a state holding the
  type's zero value (``""``, ``false``, ``0``, ``[]``, ``{}``), and an unset Optional+Computed
  input never differs. A computed-only field never differs. Equivalent policy documents do not
  differ. A change to a force-new input is a replacement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from devtools.providers.properties import UNKNOWN, has_unknowns
from devtools.providers.server import Diff, Failure, Properties, ReadResult, unknown_outputs
from infra.provider_contract import Attribute, resource_problems

CHECKED = "inputs"  # the name the contract's messages give the resource being checked


def _zero(value: Any) -> bool:
    return value is None or value in ("", False, 0, [], {})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def canonical_policy(document: Any) -> Any:
    """A policy document in a form where equivalent documents are equal (awspolicyequivalence:
    key order, a one-item list or its item, the order of actions and resources)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return document
    if not isinstance(document, Mapping):
        return document
    statements = []
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, Mapping):
            statements.append(statement)
            continue
        statements.append(
            {
                key: sorted(map(str, _as_list(value)))
                if key in ("Action", "NotAction", "Resource", "NotResource")
                else value
                for key, value in statement.items()
            }
        )
    return {
        **{k: v for k, v in document.items() if k != "Statement"},
        "Statement": sorted(statements, key=lambda s: json.dumps(s, sort_keys=True)),
    }


def comparable(value: Any, attribute: Attribute) -> Any:
    """``value`` as Diff compares it: policy documents canonical, blocks without their
    computed-only fields and zero values."""
    if attribute.policy_document:
        return canonical_policy(value)
    if attribute.block is not None and value is not None:
        items = [
            {
                name: comparable(item[name], sub)
                for name, sub in attribute.block.items()
                if isinstance(item, Mapping)
                and sub.mode != "computed"
                and not _zero(item.get(name))
            }
            for item in _as_list(value)
        ]
        return items if attribute.block_list else (items[0] if items else None)
    return None if _zero(value) else value


@dataclass(frozen=True)
class Operations:
    """What a resource type does on the server, given the configured client."""

    create: Callable[[Any, Properties], tuple[str, Properties]]
    read: Callable[[Any, str, Properties], Properties | None]  # None: gone
    update: Callable[[Any, str, Properties, Properties], Properties]
    delete: Callable[[Any, str, Properties], None]
    # Read's result: which of its properties are the resource's inputs (the rest are outputs).
    inputs_of: Callable[[Properties], Properties] | None = None


@dataclass(frozen=True)
class SchemaResource:
    """A resource type as a Terraform-bridged provider serves it (a :class:`ResourceBehaviour`)."""

    type: str
    attributes: Mapping[str, Attribute]
    operations: Operations
    # Inputs refused at Check for a reason of the stand-in's own (the endpoint cannot do it).
    unsupported: Mapping[str, str] = field(default_factory=dict)
    extra_problems: Callable[[Properties], list[Failure]] | None = None

    @property
    def sensitive(self) -> frozenset[str]:
        """The Sensitive attributes: secrets in every output."""
        return frozenset(name for name, a in self.attributes.items() if a.sensitive)

    @property
    def computed(self) -> tuple[str, ...]:
        """What only the provider sets: unknown in a preview until the object exists."""
        return tuple(
            name
            for name, a in self.attributes.items()
            if a.mode == "computed" or a.computed_when_unset
        )

    def check(self, olds: Properties, news: Properties) -> tuple[Properties, list[Failure]]:
        """The inputs with defaults filled in, and every input the provider refuses."""
        inputs = {
            **{
                name: a.default
                for name, a in self.attributes.items()
                if a.default is not None and name not in news
            },
            **news,
        }
        known = {k: v for k, v in inputs.items() if not has_unknowns(v)}
        # The contract's own words; a required input a preview does not know yet is there.
        where = f"{self.type.rsplit(':', 1)[-1]} '{CHECKED}'"
        failures = []
        for problem in resource_problems(self.type, CHECKED, known):
            path, _, reason = problem.removeprefix(f"{where}.").partition(" ")
            if path.split("[")[0] in inputs and path.split("[")[0] not in known:
                continue
            failures.append(Failure(path, reason))
        failures += [
            Failure(name, reason)
            for name, reason in self.unsupported.items()
            if not _zero(inputs.get(name))
        ]
        if self.extra_problems is not None:
            failures += self.extra_problems(known)
        return inputs, failures

    def diff(self, olds: Properties, news: Properties, ignore: Collection[str]) -> Diff:
        """The inputs that differ from the stored state, and those that force a replace."""
        changed: list[str] = []
        for name, attribute in sorted(self.attributes.items()):
            if attribute.mode == "computed" or name in ignore:
                continue
            if name not in news and (attribute.computed_when_unset or name not in olds):
                continue
            new, old = news.get(name), olds.get(name)
            if new == UNKNOWN or comparable(new, attribute) != comparable(old, attribute):
                changed.append(name)
        replaces = tuple(name for name in changed if self.attributes[name].force_new)
        return Diff(changed=tuple(changed), replaces=replaces)

    def create(self, client: Any, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        """Make the object (a preview makes nothing: computed outputs are unknown)."""
        if preview:
            return "", unknown_outputs(inputs, self.computed)
        return self.operations.create(client, inputs)

    def read(self, client: Any, id_: str, state: Properties) -> ReadResult | None:
        """What the server holds under ``id_`` (None: gone)."""
        outputs = self.operations.read(client, id_, state)
        if outputs is None:
            return None
        new_id = str(outputs.pop("__id", id_))
        inputs_of = self.operations.inputs_of or self.inputs_in
        return ReadResult(new_id, outputs, inputs_of(outputs))

    def inputs_in(self, outputs: Properties) -> Properties:
        """The properties of ``outputs`` that are inputs of this type."""
        return {
            name: value
            for name, value in outputs.items()
            if name in self.attributes and self.attributes[name].mode != "computed"
        }

    def update(
        self, client: Any, id_: str, olds: Properties, news: Properties, preview: bool
    ) -> Properties:
        """Change the object in place (a preview changes nothing)."""
        if preview:
            return {**olds, **news}
        return self.operations.update(client, id_, olds, news)

    def delete(self, client: Any, id_: str, state: Properties) -> None:
        """Remove the object."""
        self.operations.delete(client, id_, state)
