"""The renders the guardrail tests check and mutate (committed, opt-in public), and lookups."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.render import render_stack
from policies.guardrails.offline import RENDER_DIR, default_renders
from tests.support import PUBLIC_OVERRIDES

Render = dict[str, Any]


def committed_render_paths() -> list[Path]:
    """policies/rendered/*.json (the tests need at least prod and dev)."""
    paths = default_renders()
    assert {p.stem for p in paths} >= {"prod", "dev"}, f"renders missing in {RENDER_DIR}"
    return paths


COMMITTED_STACKS = [p.stem for p in committed_render_paths()]
PUBLIC = "public"


def load_committed(stack: str) -> Render:
    """A committed render, freshly loaded (tests may mutate their copy)."""
    data: Render = json.loads((RENDER_DIR / f"{stack}.json").read_text())
    return data


@functools.cache
def _public_render() -> Render:
    return render_stack("prod", PUBLIC_OVERRIDES)


def load_public() -> Render:
    """The prod render with public recordings opted into and acknowledged (a fresh copy)."""
    return copy.deepcopy(_public_render())


def load(base: str) -> Render:
    """``public`` or a committed stack's render."""
    return load_public() if base == PUBLIC else load_committed(base)


def find(render: Render, type_suffix: str, name: str | None = None) -> dict[str, Any]:
    """The one resource whose type ends with ``type_suffix`` (and has ``name``, if given)."""
    found = [
        r
        for r in render["resources"]
        if r["type"].endswith(type_suffix) and (name is None or r["name"] == name)
    ]
    assert len(found) == 1, f"expected one {type_suffix} {name or ''}, found {len(found)}"
    resource: dict[str, Any] = found[0]
    return resource


def uploader_policy(render: Render) -> dict[str, Any]:
    """The uploader's IamPolicy resource (named by the stack config)."""
    name = render["config"]["voice-recordings:uploaderPolicy"]
    return next(r for r in render["resources"] if r["inputs"].get("name") == name)


def reader_policy(render: Render) -> dict[str, Any]:
    """The reader's IamPolicy resource (named by the stack config)."""
    name = render["config"]["voice-recordings:readerPolicy"]
    return next(r for r in render["resources"] if r["inputs"].get("name") == name)


Mutation = Callable[[Render], None]


def observer_policy(render: Render) -> dict[str, Any]:
    """The observer's IamPolicy resource (named by the stack config)."""
    name = render["config"]["voice-recordings:observerPolicy"]
    return next(r for r in render["resources"] if r["inputs"].get("name") == name)


def observer_statement(render: Render, service: str) -> dict[str, Any]:
    """The observer's statement whose actions belong to ``service`` (``s3`` or ``admin``)."""
    statements: list[dict[str, Any]] = observer_policy(render)["inputs"]["policy"]["Statement"]
    return next(s for s in statements if s["Action"][0].startswith(f"{service}:"))
