"""Reading what the engine printed: ``pulumi preview --json`` and ``pulumi stack export``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def step_resources(preview: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of every resource the engine registered in a ``preview --json``."""
    found = []
    for step in preview["steps"]:
        state = step.get("newState") or step.get("oldState") or {}
        found.append((state["type"], step["urn"].rsplit("::", 1)[-1]))
    return sorted(found)


def render_resources(render: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of every resource of a render (``python -m infra.render``)."""
    return sorted((r["type"], r["name"]) for r in render["resources"])


def changes(preview: Mapping[str, Any]) -> list[str]:
    """Every step that is not "same", as ``op resource: inputs that differ``."""
    found = []
    for step in preview["steps"]:
        if step["op"] == "same":
            continue
        name = step["urn"].rsplit("::", 1)[-1]
        diffs = step.get("diffs") or sorted((step.get("detailedDiff") or {}).keys())
        found.append(f"{step['op']} {name}: {', '.join(diffs) or '(no input named)'}")
    return found
