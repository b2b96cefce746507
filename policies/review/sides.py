"""The two sides of a review: each committed render at a base revision, and what the program
renders now (with a stack's config changed, to review a change before making it)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from infra.project import REPOSITORY
from infra.render import RENDERED_DIR, committed_renders, render_stack

Render = dict[str, Any]
# The branch a pull request merges into, as a clone names it (CI passes the merge's parent).
DEFAULT_BASES: Final = ("origin/main", "main")


class BaseError(Exception):
    """The base revision cannot be read."""


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=False, timeout=60
    )


def resolve_base(base: str | None) -> str:
    """``base`` if git knows it, else the first of :data:`DEFAULT_BASES` it knows."""
    for candidate in (base,) if base else DEFAULT_BASES:
        if _git("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}").returncode == 0:
            return candidate
    wanted = base or " or ".join(DEFAULT_BASES)
    raise BaseError(f"no revision {wanted} in this clone (BASE=<revision> picks another)")


def renders_at(base: str) -> dict[str, Render]:
    """Every render committed at ``base``, by name (``prod`` for policies/rendered/prod.json)."""
    folder = RENDERED_DIR.relative_to(REPOSITORY).as_posix()
    listing = _git("ls-tree", "--name-only", f"{base}:{folder}")
    if listing.returncode != 0:
        return {}  # no renders at all then: everything is new
    found: dict[str, Render] = {}
    for name in listing.stdout.split():
        if name.endswith(".json"):
            shown = _git("show", f"{base}:{folder}/{name}")
            if shown.returncode != 0:
                raise BaseError(f"cannot read {folder}/{name} at {base}: {shown.stderr.strip()}")
            found[name.removesuffix(".json")] = json.loads(shown.stdout)
    return found


def renders_in(directory: Path) -> dict[str, Render]:
    """Every render in ``directory`` (a checkout's policies/rendered), by name."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.json"))
    }


def current_renders(
    stack: str | None = None, overrides: Mapping[str, str] | None = None
) -> dict[str, Render]:
    """What the program renders now for every committed render, by name; ``overrides`` change
    ``stack``'s config as an edit of its stack file would (a variant's own overrides still win,
    as they do in ``make render``)."""
    found: dict[str, Render] = {}
    for name, (of_stack, own) in committed_renders().items():
        extra = dict(overrides or {}) if of_stack == stack else {}
        found[name] = render_stack(of_stack, {**extra, **own})
    return found
