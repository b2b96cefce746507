"""Which resources a change creates, updates, replaces or deletes, and what changes in each.

Resources are matched by type and logical name, as the engine matches them by URN. An input the
provider marks force-new (infra/provider_contract.py) replaces the resource; pulumi-random replaces
a password on any input (RequiresReplace on every attribute, as devtools/providers/random_provider
does). ``ignore_changes`` inputs are not compared: the engine does not either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from infra.provider_contract import force_new_inputs
from infra.render_format import RANDOM_PASSWORD

Action = Literal["create", "update", "replace", "delete"]
ACTIONS: Final[tuple[Action, ...]] = ("create", "replace", "update", "delete")
# The options a resource's entry carries besides its inputs (docs/render-format.md).
_OPTIONS: Final = ("parent", "protect", "retain_on_delete", "depends_on", "aliases", "import")
_SHORT: Final = 24  # a changed value this long or shorter is shown, not only named


@dataclass(frozen=True)
class ResourceChange:
    """One resource a change touches: what happens to it, and which of its fields change."""

    action: Action
    type: str  # the type's last part: IlmPolicy
    name: str
    fields: tuple[str, ...] = ()  # "rules: 3 → 59 rules", "protect: true → false", "name"


def _short_type(token: str) -> str:
    return token.rsplit(":", 1)[-1]


def _list_change(field: str, old: list[Any], new: list[Any]) -> str:
    """``rules: 3 → 59 items (2 changed, 56 added)``: the engine diffs a list index by index, so
    this is how much of it ``pulumi preview --diff`` shows."""
    changed = sum(a != b for a, b in zip(old, new, strict=False))
    if len(old) == len(new):
        return f"{field}: {changed} of {len(new)} items changed"
    more = len(new) - len(old)
    grown = f"{more} added" if more > 0 else f"{-more} removed"
    return f"{field}: {len(old)} → {len(new)} items ({changed} changed, {grown})"


def _describe(field: str, old: Any, new: Any) -> str:
    if isinstance(old, list) and isinstance(new, list):
        return _list_change(field, old, new)
    if old is None or new is None or isinstance(old, dict | list) or isinstance(new, dict | list):
        return field
    shown = f"{field}: {old!s} → {new!s}".replace("True", "true").replace("False", "false")
    return shown if len(f"{old}{new}") <= _SHORT else field


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The changed fields, described, and whether one of them replaces the resource."""
    ignored = set(new.get("ignore_changes") or ())
    old_in, new_in = old.get("inputs") or {}, new.get("inputs") or {}
    inputs = sorted(k for k in {*old_in, *new_in} - ignored if old_in.get(k) != new_in.get(k))
    options = [k for k in _OPTIONS if old.get(k) != new.get(k)]
    forcing = set(inputs) if new["type"] == RANDOM_PASSWORD else force_new_inputs(new["type"])
    fields = [_describe(k, old_in.get(k), new_in.get(k)) for k in inputs]
    fields += [_describe(k, old.get(k), new.get(k)) for k in options]
    return fields, bool(forcing & set(inputs))


def resource_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[ResourceChange]:
    """What turns the render ``before`` into ``after`` (None: no such render), in
    :data:`ACTIONS` order, then by type and name."""
    olds = {(r["type"], r["name"]): r for r in (before or {}).get("resources", [])}
    news = {(r["type"], r["name"]): r for r in (after or {}).get("resources", [])}
    found: list[ResourceChange] = []
    for key in sorted(olds.keys() | news.keys()):
        token, name = key
        if key not in olds:
            found.append(ResourceChange("create", _short_type(token), name))
        elif key not in news:
            found.append(ResourceChange("delete", _short_type(token), name))
        else:
            fields, replaces = _changed(olds[key], news[key])
            if fields:
                action: Action = "replace" if replaces else "update"
                found.append(ResourceChange(action, _short_type(token), name, tuple(fields)))
    return sorted(found, key=lambda c: ACTIONS.index(c.action))
