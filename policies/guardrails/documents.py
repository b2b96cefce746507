"""IAM and bucket policy documents, read the way MinIO reads them, in one canonical form.

The guardrails never read a policy document's JSON directly: :func:`read_policy_document` gives
every member its canonical name and shape (or refuses a document the server would read
differently from a reviewer), and :func:`statements` turns it into :class:`Statement` s with lists
everywhere, so the rules (``rules.py``) need no special cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from infra.render_format import BUCKET_POLICY, POLICY_INPUT, SECRET_MARKER
from policies.guardrails.model import Resource

# MinIO decodes a policy document with Go's encoding/json (github.com/minio/pkg, policy package):
# - a JSON key matches a field case-insensitively, with Go's folding, which also maps the
#   non-ASCII "\u017f" (long s) to S, "\u212a" (Kelvin sign) to K and "\u0131"/"\u0130" to I;
# - when two keys match one field, the last one wins;
# - a key that matches no field is ignored (the documents' own UnmarshalJSON drops the decoder's
#   DisallowUnknownFields);
# - Action, NotAction, Resource and NotResource are a string or a list of strings; Principal is
#   "*" or an object whose "AWS" member is a string or a list; Effect is exactly Allow or Deny.
# So a reviewer reading `Statement` could miss a `statement` (or "\u017ftatement") beside it that
# the server obeys. The rules read every document through :func:`read_policy_document`, which
# gives each member its canonical name, and refuses what a reviewer could read differently from
# the server: two keys for one field, a key the server ignores, a value of another shape.

DOCUMENT_FIELDS: Final = ("Version", "ID", "Statement")
STATEMENT_FIELDS: Final = (
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
# Only a bucket policy names principals; MinIO's bucket statements have no NotPrincipal.
BUCKET_STATEMENT_FIELDS: Final = (*STATEMENT_FIELDS, "Principal")
PRINCIPAL_FIELDS: Final = ("AWS",)
EFFECTS: Final = ("Allow", "Deny")
_SET_FIELDS: Final = ("Action", "NotAction", "Resource", "NotResource")
# Non-ASCII runes that Go's key folding (ToUpper(ToLower(r))) turns into an ASCII letter.
_GO_FOLD_TO_ASCII: Final = {"\u0130": "I", "\u0131": "I", "\u017f": "S", "\u212a": "K"}


def go_fold(key: str) -> str:
    """``key`` folded as Go's encoding/json folds field names: two keys match when folds equal."""
    return "".join(
        char.upper() if char.isascii() else _GO_FOLD_TO_ASCII.get(char, char) for char in key
    )


class PolicyDocumentError(ValueError):
    """A policy document the server would read differently from a reviewer, or refuse."""


class _Members:
    """A JSON object's members in document order, duplicate keys kept (a dict would drop them)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


def _members(value: Any, where: str) -> list[tuple[str, Any]]:
    if isinstance(value, _Members):
        return list(value.pairs)
    if isinstance(value, Mapping):
        return [(str(key), item) for key, item in value.items()]
    raise PolicyDocumentError(f"{where} must be a JSON object, not {_json_kind(value)}.")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object"


def _canonical_members(value: Any, where: str, fields: Sequence[str]) -> dict[str, Any]:
    """The object's members under their field names, as the server matches them."""
    by_fold = {go_fold(field): field for field in fields}
    found: dict[str, tuple[str, Any]] = {}
    for key, item in _members(value, where):
        field = by_fold.get(go_fold(key))
        if field is None:
            raise PolicyDocumentError(
                f"{where} has the key {key!r}, which MinIO ignores (it reads only "
                f"{', '.join(fields)}, in any case)."
            )
        if field in found:
            raise PolicyDocumentError(
                f"{where} has both {found[field][0]!r} and {key!r}: MinIO reads each as "
                f"{field!r} and keeps only the last, so a reviewer may read the wrong one."
            )
        found[field] = (key, item)
    return {field: item for field, (_, item) in found.items()}


def _no_folded_duplicates(value: Any, where: str) -> None:
    """Refuse an object (at any depth) with two keys equal under case folding."""
    if isinstance(value, _Members | Mapping):
        seen: dict[str, str] = {}
        for key, item in _members(value, where):
            if go_fold(key) in seen:
                raise PolicyDocumentError(
                    f"{where} has both {seen[go_fold(key)]!r} and {key!r}, the same key to MinIO."
                )
            seen[go_fold(key)] = key
            _no_folded_duplicates(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _no_folded_duplicates(item, f"{where}[{index}]")


def _string_set(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise PolicyDocumentError(f"{where} must be a string or a list of strings.")


def _principal(value: Any, where: str) -> list[str]:
    if value == "*":
        return ["*"]
    if isinstance(value, str):
        raise PolicyDocumentError(f'{where} must be "*" or {{"AWS": [...]}}.')
    aws = _canonical_members(value, where, PRINCIPAL_FIELDS).get("AWS")
    return _string_set(aws, f"{where}.AWS")


def _statement(raw: Any, where: str, bucket_policy: bool) -> dict[str, Any]:
    fields = BUCKET_STATEMENT_FIELDS if bucket_policy else STATEMENT_FIELDS
    members = _canonical_members(raw, where, fields)
    effect = members.get("Effect")
    if effect not in EFFECTS:
        raise PolicyDocumentError(f'{where}.Effect must be exactly "Allow" or "Deny".')
    if not isinstance(members.get("Sid", ""), str):
        raise PolicyDocumentError(f"{where}.Sid must be a string.")
    canonical: dict[str, Any] = {"Effect": effect}
    if "Sid" in members:
        canonical["Sid"] = members["Sid"]
    for field in _SET_FIELDS:
        if field in members:
            canonical[field] = _string_set(members[field], f"{where}.{field}")
    if "Principal" in members:
        canonical["Principal"] = _principal(members["Principal"], f"{where}.Principal")
    if "Condition" in members:
        # A condition only narrows a statement; the rules read grants as if it always held. It
        # must still be one unambiguous object of objects.
        condition = members["Condition"]
        _no_folded_duplicates(condition, f"{where}.Condition")
        canonical["Condition"] = {
            operator: dict(_members(block, f"{where}.Condition.{operator}"))
            for operator, block in _members(condition, f"{where}.Condition")
        }
    return canonical


def read_policy_document(raw: Any, bucket_policy: bool = False) -> dict[str, Any]:
    """A policy document (JSON text or parsed) in canonical form, as MinIO reads it.

    Keys get their field names (``Statement``, ``Effect``, ``Action`` ...), every string set is a
    list, ``Principal`` is a list of principals. Raises :class:`PolicyDocumentError` for a
    document the server would read differently from a reviewer, or refuse.
    """
    if raw == SECRET_MARKER:
        raise PolicyDocumentError("the document is a secret, so no reviewer or rule can read it.")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw, object_pairs_hook=_Members)
        except json.JSONDecodeError as exc:
            raise PolicyDocumentError(f"the document is not valid JSON: {exc}.") from None
    members = _canonical_members(raw, "the document", DOCUMENT_FIELDS)
    for field in ("Version", "ID"):
        if not isinstance(members.get(field, ""), str):
            raise PolicyDocumentError(f"the document's {field} must be a string.")
    found = members.get("Statement")
    if found is None:
        found = []
    if not isinstance(found, list | tuple):
        raise PolicyDocumentError(
            f"the document's Statement must be a list of statements, not {_json_kind(found)}."
        )
    canonical: dict[str, Any] = {f: members[f] for f in ("Version", "ID") if f in members}
    canonical["Statement"] = [
        _statement(item, f"Statement[{index}]", bucket_policy) for index, item in enumerate(found)
    ]
    return canonical


def policy_document(resource: Resource) -> dict[str, Any] | None:
    """The ``policy`` input in canonical form (None when absent); PolicyDocumentError if unread."""
    raw = resource.known(POLICY_INPUT)
    if raw is None or raw == "":
        return None
    return read_policy_document(raw, bucket_policy=resource.type == BUCKET_POLICY)


def readable_document(resource: Resource) -> dict[str, Any] | None:
    """The canonical document, or None when unreadable (``policy-document-unambiguous`` says so)."""
    try:
        return policy_document(resource)
    except PolicyDocumentError:
        return None


@dataclass(frozen=True)
class Statement:
    """One canonical statement: lists everywhere, so checks need no special cases."""

    effect: str
    actions: list[str]
    resources: list[str]
    principals: list[str] | None  # None: no Principal element (identity policy)
    negated: list[str]  # NotAction / NotResource, present ones


def statements(document: Mapping[str, Any] | None) -> list[Statement]:
    """The statements of a canonical document (:func:`read_policy_document`)."""
    if document is None:
        return []
    return [
        Statement(
            effect=raw["Effect"],
            actions=list(raw.get("Action", [])),
            resources=list(raw.get("Resource", [])),
            principals=raw.get("Principal"),
            negated=[key for key in ("NotAction", "NotResource") if key in raw],
        )
        for raw in document["Statement"]
    ]


def allows(document: Mapping[str, Any] | None) -> list[Statement]:
    """The statements of a canonical document that allow (the ones that grant anything)."""
    return [s for s in statements(document) if s.effect == "Allow"]
