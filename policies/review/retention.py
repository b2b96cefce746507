"""The retention MinIO applies to each kind of each class of company ids, before and after.

One reading of a lifecycle, the guardrails' (policies/guardrails/lifecycle.py: which rules match
which objects, the earliest expiry wins): the two renders are judged with each other's prefixes and
companies, so both sides have the same classes (company 42, the ids that start with 43, ...), and
classes whose retention is the same on both sides are told as one row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from policies.guardrails.lifecycle import UNTAGGED, Coverage, Effect, StoredObject, effect
from policies.guardrails.model import Resource, StackContext
from policies.guardrails.rules_lifecycle import effective_rules
from voice_recordings.keys import KINDS

NOT_THERE: Final = "—"  # no such render on that side
KEPT: Final = "kept"  # no rule expires them


@dataclass(frozen=True)
class Retention:
    """What the lifecycle does to one class of objects: per kind (and ``UNTAGGED``) the current
    versions' retention and the noncurrent versions', as a reader reads them ("365 d")."""

    current: Mapping[str, str]
    noncurrent: Mapping[str, str]


def _days(found: Sequence[tuple[str, int, Coverage]], dated: Sequence[tuple[str, str]]) -> str:
    """``365 d``; ``30 to 365 d`` when some of them go earlier; ``kept`` when none go."""
    whole = [days for _, days, coverage in found if coverage == "all"]
    earliest = min((days for _, days, _ in found), default=None)
    text = KEPT if earliest is None else f"{earliest} d"
    if earliest is not None and not whole:
        text = f"{earliest} d for some, {KEPT} for others"
    elif whole and min(whole) != earliest:
        text = f"{earliest} to {min(whole)} d"
    return text + "".join(f", all on {date}" for _, date in dated)


def _rules(render: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    ctx = StackContext.from_config(render.get("config") or {})
    resources = [Resource(r["type"], r["name"], r["inputs"]) for r in render["resources"]]
    return effective_rules(resources, ctx), sorted(ctx.company_retention)


def _retention(effects: Mapping[str, Effect] | None, names: Mapping[str, str]) -> Retention | None:
    """The :class:`Retention` of the stored objects ``names`` (label -> stored object name)."""
    if effects is None:
        return None
    chosen = {label: effects[name] for label, name in names.items()}
    return Retention(
        {label: _days(e.expiries, e.dated) for label, e in chosen.items()},
        {label: _days(e.noncurrent, ()) for label, e in chosen.items()},
    )


def retention_by_class(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[tuple[StoredObject, Retention | None, Retention | None]]:
    """Each class of company ids (the stored object of its first kind stands for it), then the
    untagged objects, with their retention ``before`` and ``after`` (None: no such render)."""
    sides = [_rules(render) if render else None for render in (before, after)]
    prefixes = [rule.prefix for side in sides if side for rule in side[0]]
    companies = [company for side in sides if side for company in side[1]]
    effects = [effect(side[0], companies, prefixes) if side else None for side in sides]
    reference = next(e for e in effects if e is not None)
    first = next(iter(KINDS))
    found = []
    for stored in (e.stored for e in reference.values()):
        if stored.name == UNTAGGED:
            names = {UNTAGGED: UNTAGGED}
        elif stored.kind == first:
            names = {kind: f"{kind}@{stored.company}" for kind in KINDS}
        else:
            continue
        found.append((stored, _retention(effects[0], names), _retention(effects[1], names)))
    return found
