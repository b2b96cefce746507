"""Check rendered stacks against the guardrails, without the Pulumi engine.

    python -m policies.guardrails.offline                      # the program's current renders
    python -m policies.guardrails.offline path/to/render.json  # just these

Without a file it checks what the program renders now: it renders every stack and variant in
memory and fails, naming the file and "run `make render`", when a committed render is not that
(a reviewer reads the committed renders, so a stale one would hide the change under review).

A file may also be a recording of what the engine's analyzer handed a pack (``analyzer.py``);
a render is read in that same shape.

Prints one line per violation (MANDATORY / ADVISORY). Exit 0 when no mandatory rule fails
(advisories alone pass), 1 when one does or a committed render is stale, 2 when a render cannot
be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from infra.config import StackConfigError
from infra.render import stale_renders
from policies.guardrails.analyzer import (
    RenderFormatError,
    Requests,
    check_requests,
    is_recording,
    requests_of_render,
)
from policies.guardrails.model import MANDATORY, StackContext, Violation

RENDER_DIR: Final = Path(__file__).resolve().parents[1] / "rendered"


class RenderError(Exception):
    """A render file is missing or not in the render format."""


def check_render(render: Mapping[str, Any]) -> list[Violation]:
    """Every violation in one render (a dict in the render format), or in a recording of the
    analyzer's requests: a render is first put in the shape the engine hands the pack."""
    try:
        if is_recording(render):
            return check_requests(Requests.from_json(render))
        try:
            ctx = StackContext.from_config(render.get("config") or {})
        except StackConfigError as exc:  # a value the program refuses: edited by hand
            raise RenderError(f"its config is not one the program takes: {exc}") from None
        return check_requests(requests_of_render(render), ctx)
    except RenderFormatError as exc:
        raise RenderError(str(exc)) from None
    except (KeyError, TypeError) as exc:
        raise RenderError(f"not in the render format (missing {exc})") from None


def load_render(path: Path) -> dict[str, Any]:
    """Read one render file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RenderError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not (
        isinstance(data.get("resources"), list) or is_recording(data)
    ):
        raise RenderError(f"{path}: not a render (expected an object with 'resources')")
    return data


def default_renders(directory: Path = RENDER_DIR) -> list[Path]:
    """The committed renders, policies/rendered/*.json."""
    return sorted(directory.glob("*.json"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the guardrails over the given renders (default: the committed ones)."""
    parser = argparse.ArgumentParser(prog="make guard", description=__doc__.splitlines()[0])
    parser.add_argument(
        "renders", nargs="*", type=Path, help="render files (default: the current renders)"
    )
    parser.add_argument(
        "--rendered", type=Path, default=RENDER_DIR, help="where the committed renders are"
    )
    args = parser.parse_args(argv)
    if not args.renders:
        stale = stale_renders(args.rendered)
        for line in stale:
            print(f"guardrails: {line}", file=sys.stderr)
        if stale:
            return 1
    paths: list[Path] = list(args.renders) or default_renders(args.rendered)
    if not paths:
        print(f"guardrails: no renders in {args.rendered} (run `make render`)", file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        try:
            violations = check_render(load_render(path))
        except RenderError as exc:
            print(f"guardrails: {path}: {exc}", file=sys.stderr)
            return 2
        mandatory = sum(v.level == MANDATORY for v in violations)
        for violation in violations:
            print(f"{path}: {violation.line()}")
        print(f"guardrails: {path}: {mandatory} mandatory, {len(violations) - mandatory} advisory")
        failed = failed or mandatory > 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
