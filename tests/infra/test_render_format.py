"""The render's contract (infra/render_format.py): its page, the renders and its readers agree."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Final

import pytest

from infra import render_format
from infra.project import REPOSITORY
from infra.render import RENDERED_DIR
from infra.render_format import (
    CONFIG_NAMESPACE,
    FORMAT_VERSION,
    OPTIONAL_RESOURCE_FIELDS,
    PROJECT,
    RENDER_FIELDS,
    RESOURCE_FIELDS,
    SECRET_MARKER,
    STACK,
    TYPE_TOKENS,
)
from tests.support import program_run

PAGE: Final = REPOSITORY / "docs" / "render-format.md"
# The modules that read or write the contract's facts and must take them from render_format.
# Every module of infra/, policies/ and devtools/ but the contract's own.
CONTRACT_READERS: Final = tuple(
    sorted(
        str(p.relative_to(REPOSITORY))
        for folder in ("infra", "policies", "devtools")
        for p in (REPOSITORY / folder).rglob("*.py")
        if p.resolve() != Path(render_format.__file__).resolve()
    )
)


def _renders() -> list[Path]:
    return sorted(RENDERED_DIR.glob("*.json"))


def _code_strings(path: Path) -> list[str]:
    """Every string literal of a module that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_page_documents_every_field_and_type_token_of_the_module() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert f"Format version: {FORMAT_VERSION}\n" in page
    for name in (*RENDER_FIELDS, *RESOURCE_FIELDS, *OPTIONAL_RESOURCE_FIELDS, *TYPE_TOKENS):
        assert f"| `{name}` |" in page, name
    assert f'`"{SECRET_MARKER}"`' in page and f"`{CONFIG_NAMESPACE}:bucket`" in page
    # Nothing documented as a field or token that the module does not define.
    rows = {line.split("`")[1] for line in page.splitlines() if line.startswith("| `")}
    assert rows == {*RENDER_FIELDS, *RESOURCE_FIELDS, *OPTIONAL_RESOURCE_FIELDS, *TYPE_TOKENS}


def test_the_contract_module_imports_nothing_but_typing() -> None:
    tree = ast.parse(Path(render_format.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "typing"}


@pytest.mark.parametrize("path", _renders(), ids=lambda p: p.stem)
def test_every_committed_render_is_in_the_documented_format(path: Path) -> None:
    render: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert list(render) == sorted(RENDER_FIELDS)  # sort_keys: the committed text is stable
    assert render["project"] == PROJECT
    assert all(key.startswith(f"{CONFIG_NAMESPACE}:") for key in render["config"])
    resources = render["resources"]
    assert resources == sorted(resources, key=lambda r: (r["type"], r["name"]))
    for resource in resources:
        fields = set(resource)
        assert set(RESOURCE_FIELDS) <= fields <= {*RESOURCE_FIELDS, *OPTIONAL_RESOURCE_FIELDS}
        assert resource["type"] in TYPE_TOKENS and resource["type"] != STACK


def test_optional_fields_appear_exactly_when_set() -> None:
    # prod-adopt's program imports the hand-made storage; plain prod imports nothing.
    adopted = json.loads((RENDERED_DIR / "prod-adopt.json").read_text(encoding="utf-8"))
    assert any("import" in r for r in adopted["resources"])
    for resource in program_run("prod").document()["resources"]:
        assert not set(OPTIONAL_RESOURCE_FIELDS) & set(resource), resource["name"]


@pytest.mark.parametrize("module", CONTRACT_READERS)
def test_readers_take_the_contract_from_its_module(module: str) -> None:
    repeated = {
        value
        for value in _code_strings(REPOSITORY / module)
        if value in TYPE_TOKENS or value == SECRET_MARKER
    }
    assert not repeated, f"{module} spells {sorted(repeated)}: import them from infra.render_format"
