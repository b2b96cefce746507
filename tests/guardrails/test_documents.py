"""Policy documents as MinIO reads them, and the closed world, as properties over every variant.

MinIO decodes documents with Go's encoding/json: a key matches its field in any case (with Go's
folding, so "\u017ftatement" is Statement), the last of two keys for one field wins, and a key
that matches no field is ignored. The rules must read every spelling the way the server does,
and refuse any document where two keys land on one field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import render_format
from policies.guardrails import documents
from policies.guardrails.offline import check_render
from policies.guardrails.rules_closed_world import KNOWN_INPUTS
from tests.guardrails.renders import Render, load_committed, load_public, uploader_policy

# Every way Go's folding lets a character of a field name be written.
_VARIANTS = {"s": "sS\u017f", "k": "kK\u212a", "i": "iI\u0131\u0130"}
_EXAMPLES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spellings(field: str) -> st.SearchStrategy[str]:
    """Any spelling of ``field`` that MinIO reads as ``field``."""
    return st.tuples(
        *(st.sampled_from(_VARIANTS.get(c.lower(), c.lower() + c.upper())) for c in field)
    ).map("".join)


def respell(value: Any, draw: Callable[[st.SearchStrategy[str]], str]) -> Any:
    """``value`` with every key of every object written another way MinIO reads the same."""
    if isinstance(value, dict):
        return {draw(spellings(key)): respell(item, draw) for key, item in value.items()}
    if isinstance(value, list):
        return [respell(item, draw) for item in value]
    return value


def violations(render: Render) -> set[tuple[str, str]]:
    return {(v.rule, v.message) for v in check_render(render)}


PROD = load_committed("prod")
CLEAN = violations(PROD)


@given(data=st.data())
@_EXAMPLES
def test_any_spelling_reads_as_the_documented_one(data: st.DataObject) -> None:
    render = copy.deepcopy(PROD)
    resource = uploader_policy(render)
    original = resource["inputs"]["policy"]
    resource["inputs"]["policy"] = respell(original, data.draw)
    assert documents.read_policy_document(resource["inputs"]["policy"]) == (
        documents.read_policy_document(original)
    )
    assert violations(render) == CLEAN


@given(data=st.data(), action=st.sampled_from(["s3:DeleteObject", "s3:*", "admin:CreateUser"]))
@_EXAMPLES
def test_a_grant_in_any_spelling_is_seen(data: st.DataObject, action: str) -> None:
    render = copy.deepcopy(PROD)
    resource = uploader_policy(render)
    resource["inputs"]["policy"]["Statement"][0]["Action"].append(action)
    resource["inputs"]["policy"] = respell(resource["inputs"]["policy"], data.draw)
    fired = {rule for rule, _ in violations(render) - CLEAN}
    assert fired & {"iam-least-privilege", "iam-no-wildcards"}, fired


# Where a second spelling can hide: (path to the object, its fields).
_LEVELS = [((), documents.DOCUMENT_FIELDS), (("Statement", 0), documents.STATEMENT_FIELDS)]


def _refused(document: Any) -> None:
    with pytest.raises(documents.PolicyDocumentError, match="has both"):
        documents.read_policy_document(document)
    render = copy.deepcopy(PROD)
    uploader_policy(render)["inputs"]["policy"] = document
    assert "policy-document-unambiguous" in {rule for rule, _ in violations(render) - CLEAN}


@given(data=st.data(), level=st.sampled_from(_LEVELS))
@_EXAMPLES
def test_two_spellings_of_one_field_are_refused(
    data: st.DataObject, level: tuple[tuple[str | int, ...], tuple[str, ...]]
) -> None:
    path, fields = level
    document = copy.deepcopy(uploader_policy(PROD)["inputs"]["policy"])
    target: Any = document
    for step in path:
        target = target[step]
    field = data.draw(st.sampled_from(fields))
    first = data.draw(spellings(field))
    second = data.draw(spellings(field).filter(lambda s: s != first))
    value = target.pop(field, "x")
    target[first], target[second] = value, value
    _refused(document)


def _with_key_again(obj: dict[str, Any], key: str, value: Any) -> str:
    """``obj`` as JSON text whose last member repeats ``key`` (only text can hold that)."""
    return f"{json.dumps(obj)[:-1]}, {json.dumps(key)}: {json.dumps(value)}}}"


@given(data=st.data(), at_statement=st.booleans())
@_EXAMPLES
def test_the_same_key_twice_in_json_text_is_refused(
    data: st.DataObject, at_statement: bool
) -> None:
    document = copy.deepcopy(uploader_policy(PROD)["inputs"]["policy"])
    if at_statement:
        first, *rest = document["Statement"]
        key = data.draw(st.sampled_from(sorted(first)))
        texts = [_with_key_again(first, key, first[key]), *map(json.dumps, rest)]
        text = json.dumps({**document, "Statement": "@"}).replace('"@"', f"[{', '.join(texts)}]")
    else:
        key = data.draw(st.sampled_from(sorted(document)))
        text = _with_key_again(document, key, document[key])
    assert json.loads(text) == document  # a dict keeps one: the duplicate shows only in the text
    _refused(text)


@given(principal=spellings("Principal"), aws=spellings("AWS"))
@_EXAMPLES
def test_a_named_principal_in_any_spelling_is_seen(principal: str, aws: str) -> None:
    render = load_public()
    before = violations(render)
    policy = next(r for r in render["resources"] if r["type"] == render_format.BUCKET_POLICY)
    statement = policy["inputs"]["policy"]["Statement"][0]
    statement.pop("Principal")
    statement[principal] = {aws: ["arn:aws:iam::000000000000:user/eve"]}
    assert "no-anonymous-access" in {rule for rule, _ in violations(render) - before}


@given(char=st.characters())
def test_go_folding_reaches_ascii_only_from_ascii_and_its_four_exceptions(char: str) -> None:
    # Go folds a rune to ToUpper(ToLower(r)); from outside ASCII that is an ASCII letter only for
    # U+0130, U+0131, U+017F and U+212A (checked here against Python's own case mappings).
    special = "\u0130\u0131\u017f\u212a"
    lower = char.lower() if len(char.lower()) == 1 else char
    python = lower.upper() if len(lower.upper()) == 1 else lower
    if not char.isascii() and char not in special:
        assert not python.isascii(), f"U+{ord(char):04X} folds to ASCII: add it to the table"
        assert not documents.go_fold(char).isascii()
    else:
        assert documents.go_fold(char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" or not char.isalpha()


# --- the closed world ----------------------------------------------------------------------------

_TOKEN = st.from_regex(r"[a-z]{1,12}:index/[a-z][A-Za-z]{0,20}:[A-Z][A-Za-z]{0,20}", fullmatch=True)


@given(type_token=_TOKEN.filter(lambda t: t not in KNOWN_INPUTS))
@_EXAMPLES
def test_any_type_no_rule_knows_is_a_violation(type_token: str) -> None:
    render = copy.deepcopy(PROD)
    render["resources"].append(
        {"type": type_token, "name": "new", "protect": True, "retain_on_delete": True, "inputs": {}}
    )
    new = [v for v in check_render(render) if (v.rule, v.message) not in CLEAN]
    assert [v.rule for v in new] == ["known-resources-only"]
    assert type_token in new[0].message and "KNOWN_INPUTS" in new[0].message


@given(data=st.data())
@_EXAMPLES
def test_any_input_no_rule_knows_is_a_violation(data: st.DataObject) -> None:
    render = copy.deepcopy(PROD)
    resource = data.draw(st.sampled_from(render["resources"]))
    known = KNOWN_INPUTS[resource["type"]]
    key = data.draw(
        st.from_regex(r"[a-z][A-Za-z]{0,15}", fullmatch=True).filter(lambda k: k not in known)
    )
    resource["inputs"][key] = "s3cr3t-value-never-echoed"
    new = [v for v in check_render(render) if (v.rule, v.message) not in CLEAN]
    assert "known-resources-only" in {v.rule for v in new}
    assert all("s3cr3t" not in v.message for v in new)


def test_every_type_the_committed_renders_use_is_known() -> None:
    for stack in ("prod", "dev"):
        for resource in load_committed(stack)["resources"]:
            assert resource["type"] in KNOWN_INPUTS, resource["type"]


def test_a_secret_document_is_refused_not_read_as_empty() -> None:
    render = copy.deepcopy(PROD)
    uploader_policy(render)["inputs"]["policy"] = render_format.SECRET_MARKER
    found = {v.rule: v.message for v in check_render(render)}
    assert "no reviewer or rule can read it" in found["policy-document-unambiguous"]
