"""The review as text: markdown tables that read in a terminal and in a pull request's comment.

Short on purpose, so that the review of one company's retention fits on a screen: renders whose
review reads the same are told once (prod and prod-adopt), unchanged ones in one line; only the
identities whose grants change get rows; classes of company ids with the same retention before
and after are one row, and the retention that changes is also said in a sentence per kind
("company 42: voice 365 d → 1825 d").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from policies.guardrails.lifecycle import UNTAGGED, StoredObject
from policies.review.grants import identity_grants
from policies.review.resources import resource_changes
from policies.review.retention import KEPT, NOT_THERE, Retention, retention_by_class
from voice_recordings.keys import KINDS

_SHORT_VALUE: Final = 60  # a changed config value this long or shorter is shown


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows
    ]


def _arrow(before: str | None, after: str | None) -> str:
    old, new = before or NOT_THERE, after or NOT_THERE
    return old if old == new else f"{old} → {new}"


def _resources(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    changes = resource_changes(before, after)
    if not changes:
        return ["Resources: no change."]
    rows = [(f"{c.type} {c.name}", c.action, "; ".join(c.fields)) for c in changes]
    return _table(("resource", "change", "what changes"), rows)


def _config(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    old, new = (before or {}).get("config") or {}, (after or {}).get("config") or {}
    changed = []
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            shown = [json.dumps(side.get(key), separators=(",", ":")) for side in (old, new)]
            short = len("".join(shown)) <= _SHORT_VALUE
            changed.append(f"`{key}` {shown[0]} → {shown[1]}" if short else f"`{key}`")
    return [f"Config: {', '.join(changed)}."] if changed else []


def _grants(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    old, new = identity_grants(before), identity_grants(after)
    rows = []
    for who in sorted(old.keys() | new.keys()):
        mine, theirs = old.get(who, {}), new.get(who, {})
        for resource in sorted(mine.keys() | theirs.keys()):
            if mine.get(resource) != theirs.get(resource):
                cells = [", ".join(side.get(resource, ())) or NOT_THERE for side in (mine, theirs)]
                rows.append((who, resource, *cells))
    if not rows:
        return [f"Grants: no change ({', '.join(sorted(new or old))})."]
    return _table(("identity", "resource", "before", "after"), rows)


def _older(retention: Retention | None) -> str | None:
    if retention is None:
        return None
    values = set(retention.noncurrent.values())
    if len(values) == 1:
        return values.pop()
    return ", ".join(f"{kind} {days}" for kind, days in retention.noncurrent.items())


def _cells(before: Retention | None, after: Retention | None, labels: Sequence[str]) -> list[str]:
    cells = [_arrow(*(r.current[k] if r else None for r in (before, after))) for k in labels]
    return [*cells, _arrow(_older(before), _older(after))]


def _sentences(label: str, before: Retention | None, after: Retention | None) -> Iterator[str]:
    if before is None or after is None:
        return
    for kind, old in before.current.items():
        if old != after.current[kind]:
            what = "" if kind == UNTAGGED else f" {kind}"  # untagged objects are of no kind
            yield f"{label}:{what} {old} → {after.current[kind]}"
    for kind, old in before.noncurrent.items():
        if old != after.noncurrent[kind]:
            yield f"{label}: older {kind} versions {old} → {after.noncurrent[kind]}"


def _retention(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    groups: dict[tuple[str, ...], list[StoredObject]] = {}
    sides: dict[tuple[str, ...], tuple[Retention | None, Retention | None]] = {}
    untagged: list[str] = []  # shown only when some untagged object would expire
    untagged_sides: tuple[Retention | None, Retention | None] = (None, None)
    for stored, old, new in retention_by_class(before, after):
        if stored.name == UNTAGGED:
            if any(r and r.current[UNTAGGED] != KEPT for r in (old, new)):
                untagged = _cells(old, new, [UNTAGGED])
                untagged_sides = old, new
            continue
        key = tuple(_cells(old, new, list(KINDS)))
        groups.setdefault(key, []).append(stored)
        sides[key] = (old, new)
    widest = max(groups, key=lambda key: len(groups[key]))
    labels = {
        key: ("every company" if len(groups) == 1 else "every other company")
        if key == widest
        else ", ".join(stored.describe() for stored in members)
        for key, members in groups.items()
    }
    sentences = [line for key in groups for line in _sentences(labels[key], *sides[key])]
    if untagged:
        sentences += _sentences("untagged objects", *untagged_sides)
    if not sentences and len(groups) == 1 and not untagged:
        cells = dict(zip([*KINDS, "older versions"], widest, strict=True))
        return [f"Retention: no change ({', '.join(f'{k} {v}' for k, v in cells.items())})."]
    rows = [(labels[key], *key) for key in sorted(groups, key=lambda key: key == widest)]
    if untagged:
        # Untagged objects have no kind: what every one of them gets, under each kind.
        rows.append(("untagged objects", *[untagged[0]] * len(KINDS), untagged[1]))
    table = _table(("retention", *KINDS, "older versions"), rows)
    return [*table, "", *sentences] if sentences else table


def render_review(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The review of one render: resources, config, grants, retention (empty: no change)."""
    if before == after:
        return []
    if after is None:
        return [
            "The render is gone: every resource below is deleted.",
            "",
            *_resources(before, after),
        ]
    parts = [_resources(before, after), _config(before, after), _grants(before, after)]
    parts.append(_retention(before, after))
    return [line for part in parts if part for line in [*part, ""]][:-1]


def review(before: Mapping[str, Any], after: Mapping[str, Any], base: str) -> str:
    """What turns the renders ``before`` (name -> render, at ``base``) into ``after``."""
    bodies: dict[tuple[str, ...], list[str]] = {}
    unchanged = []
    for name in sorted(before.keys() | after.keys()):
        body = tuple(render_review(before.get(name), after.get(name)))
        if body:
            bodies.setdefault(body, []).append(name)
        else:
            unchanged.append(name)
    lines = [f"## Review: the renders at {base} → what the program renders now"]
    for body, names in bodies.items():
        lines += ["", f"### {', '.join(names)}", "", *body]
    if unchanged:
        lines += ["", f"No change: {', '.join(unchanged)}."]
    return "\n".join(lines) + "\n"
