"""The rule for renaming what Delete would damage: versioning and lifecycle keep their names.

Their Delete suspends the bucket's versioning / removes its lifecycle (infra/provider_contract.py).
A rename or a new parent is, to the engine, a new resource plus a deleted one, so it needs an
``aliases`` entry naming what the deployed stacks hold. ``retain_on_delete`` keeps the old one's
Delete off the server anyway; the alias keeps it from being created twice and forgotten.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

import pytest

from infra.render_format import LIFECYCLE, VERSIONING
from tests.support import STACKS, program_run

# (logical name, parent) the deployed stacks hold. Change only together with an alias to these.
DEPLOYED: Final[Mapping[str, tuple[str, str]]] = {
    VERSIONING: ("recordings-versioning", "recording-storage"),
    LIFECYCLE: ("recordings-lifecycle", "recording-storage"),
}


def unaliased_moves(document: Mapping[str, Any]) -> list[str]:
    """Each retained resource that left its deployed name or parent without an alias to it."""
    found = []
    for resource in document["resources"]:
        if resource["type"] not in DEPLOYED:
            continue
        name, parent = DEPLOYED[resource["type"]]
        if (resource["name"], resource["parent"]) == (name, parent):
            continue
        aliases = resource.get("aliases", [])
        if not any(
            a.get("name", resource["name"]) == name
            and a.get("parent", resource["parent"]) == parent
            for a in aliases
        ):
            found.append(
                f"{resource['name']} moved from {name!r} under {parent!r}: add "
                f"aliases=[pulumi.Alias(name={name!r}, parent=<the component>)]"
            )
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_keeps_the_deployed_names(stack: str) -> None:
    assert unaliased_moves(program_run(stack).document()) == []


@pytest.mark.parametrize("resource_type", sorted(DEPLOYED))
@pytest.mark.parametrize("move", ["rename", "reparent"])
def test_a_move_needs_an_alias(resource_type: str, move: str) -> None:
    document = copy.deepcopy(program_run("prod").document())
    (resource,) = [r for r in document["resources"] if r["type"] == resource_type]
    old_name, old_parent = resource["name"], resource["parent"]
    if move == "rename":
        resource["name"] = "renamed"
    else:
        resource["parent"] = None
    assert len(unaliased_moves(document)) == 1
    resource["aliases"] = [{"name": old_name}] if move == "rename" else [{"parent": old_parent}]
    assert unaliased_moves(document) == []
