"""The offline render: each stack's desired state as JSON, as the engine would be asked for it.

    python -m infra.render --stack prod [--config KEY=VALUE ...] [--output FILE]

The program runs under mocks (:mod:`infra.mocked_run`; no engine, plugin or server), its stack
config read from the stack file (:mod:`infra.stack_file`). Secrets are printed as
``"[secret]"``, policy documents as JSON objects. The format is described in
docs/render-format.md; its field names, type tokens, secret marker and namespace are defined once
in :mod:`infra.render_format`. The committed renders (``policies/rendered/``, one per stack file
and one per :data:`VARIANTS` entry) are what a reviewer diffs and the guardrails check;
:func:`stale_renders` says which no longer match the program.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from infra.adoption import ADOPT_OVERRIDES
from infra.config import COMPANY_RETENTION_KEY, StackConfigError, full_key
from infra.mocked_run import run_program
from infra.project import REPOSITORY
from infra.stack_file import known_stacks, qualify

RENDERED_DIR: Final = REPOSITORY / "policies" / "rendered"


def render_stack(stack: str, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The desired state of ``stack`` as the render's JSON object (secrets masked)."""
    return run_program(stack, overrides).document()


def render_text(stack: str, overrides: Mapping[str, str] | None = None) -> str:
    """:func:`render_stack` as the exact text of the committed snapshot."""
    return json.dumps(render_stack(stack, overrides), indent=2, sort_keys=True) + "\n"


def snapshot_path(stack: str) -> Path:
    """``policies/rendered/<stack>.json``."""
    return RENDERED_DIR / f"{stack}.json"


# One company keeping its recordings five years and its transcripts two (an example for review).
COMPANY_RETENTION_OVERRIDES: Final[dict[str, str]] = {
    full_key(COMPANY_RETENTION_KEY): '{"42":{"transcript":730,"voice":1825}}'
}

# Committed renders of a stack with overrides, beside one per stack file: name -> (stack,
# overrides). prod-adopt is production taking over the hand-made storage (imports), so the
# takeover plan is reviewed in a diff and checked by the guardrails; prod-company-retention is
# production with one company keeping its recordings longer (docs/operating.md, "Retention per
# company"), so the rules it takes are reviewed and checked the same way.
VARIANTS: Final[dict[str, tuple[str, Mapping[str, str]]]] = {
    "prod-adopt": ("prod", ADOPT_OVERRIDES),
    "prod-company-retention": ("prod", COMPANY_RETENTION_OVERRIDES),
}


def committed_renders() -> dict[str, tuple[str, Mapping[str, str]]]:
    """Every committed render's name (``policies/rendered/<name>.json``) -> (stack, overrides):
    one per stack file, then the :data:`VARIANTS` (``make render`` writes them all)."""
    return {**{stack: (stack, {}) for stack in known_stacks()}, **VARIANTS}


def current_text(name: str) -> str:
    """The text the program renders now for the committed render ``name``."""
    stack, overrides = committed_renders()[name]
    return render_text(stack, overrides)


def stale_renders(directory: Path = RENDERED_DIR) -> list[str]:
    """One line for each committed render in ``directory`` that is not what the program renders
    now (missing, different, or rendered by no stack or variant); empty when all are current."""
    names = committed_renders()
    problems = [
        f"{_shown(directory / f'{name}.json')} is stale: the program renders it differently; "
        "run `make render`"
        for name in names
        if not (directory / f"{name}.json").is_file()
        or (directory / f"{name}.json").read_text(encoding="utf-8") != current_text(name)
    ]
    problems += [
        f"{_shown(path)} is no stack's or variant's render any more: remove it"
        for path in sorted(directory.glob("*.json"))
        if path.stem not in names
    ]
    return problems


def _shown(path: Path) -> Path:
    # policies/rendered/prod.json, as a reviewer finds it in the pull request.
    return path.relative_to(REPOSITORY) if path.is_relative_to(REPOSITORY) else path


def parse_override(text: str) -> tuple[str, str]:
    """``--config KEY=VALUE``: the key qualified as the Pulumi CLI does, and the value."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--config wants KEY=VALUE, got {text!r}")
    return qualify(key), value


def cli(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.render``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.render", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--stack", help=f"one of {known_stacks()}")
    parser.add_argument(
        "--variant",
        choices=sorted(VARIANTS),
        help="write the committed render of a stack with overrides (policies/rendered/NAME.json)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        type=parse_override,
        metavar="KEY=VALUE",
        help="override a stack config value, like `pulumi up --config` (repeatable); a secret "
        "key (voice-recordings:voiceAiServiceToken) counts as set with --secret",
    )
    parser.add_argument("--output", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    if args.variant:
        stack, overrides = VARIANTS[args.variant]
        args.stack, args.output = stack, args.output or snapshot_path(args.variant)
        args.config = [*overrides.items(), *args.config]
    elif not args.stack:
        parser.error("--stack or --variant is required")
    try:
        text = render_text(args.stack, dict(args.config))
    except StackConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
