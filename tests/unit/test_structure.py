"""The code's shape: no import circle inside any package, and every runtime module imports alone.

A circle (a imports b, b imports a, even under ``TYPE_CHECKING`` or inside a function) means two
modules hold one job between them; it also makes the import order matter. Found from the source
with ``ast`` (every import statement, wherever it is), ordered with ``graphlib``.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGES = ("voice_recordings", "infra", "devtools", "policies")


def module_name(path: Path) -> str:
    """``voice_recordings/spool/spool.py`` -> ``voice_recordings.spool.spool`` (an __init__:
    its package)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of the same package it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                # ``from pkg import module`` imports pkg.module
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[module_name(path)] = imported
    return {name: {m for m in deps if m in found and m != name} for name, deps in found.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (first module repeated last), or None."""
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_inside_a_package(package: str) -> None:
    graph = import_graph(package)
    assert len(graph) > 1
    assert cycle(graph) is None, f"import circle: {' -> '.join(cycle(graph) or [])}"


def test_the_circle_finder_finds_a_circle_and_its_absence() -> None:
    # The check above can fail: a circle through a TYPE_CHECKING import is one.
    found = cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert found is not None and set(found) == {"a", "b", "c"} and found[0] == found[-1]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph("voice_recordings")
    # replay needs the spool's format, the uploader needs replay: never the other way round.
    assert "voice_recordings.spool.spool" in graph["voice_recordings.spool.replay"]
    assert "voice_recordings.spool.replay" in graph["voice_recordings.uploader"]
    assert "voice_recordings.uploader" not in graph["voice_recordings.spool.spool"]
    # a function-local import counts (the uploader makes its client lazily)
    assert "voice_recordings.client" in graph["voice_recordings.uploader"]


@pytest.mark.parametrize(
    "module", sorted(m for m in import_graph("voice_recordings") if m != "voice_recordings")
)
def test_every_runtime_module_imports(module: str) -> None:
    assert importlib.import_module(module).__doc__, f"{module} has no docstring"
