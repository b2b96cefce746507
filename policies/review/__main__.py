"""``make review`` (``python -m policies.review``): what a change does, as tables.

    python -m policies.review                      # the renders at origin/main (or main) -> now
    python -m policies.review --base HEAD~3        # another base (make review BASE=HEAD~3)
    python -m policies.review --stack prod --config 'companyRetention={"42":{"voice":1825}}'
                                                   # a config change, before making it

Exit 0 with the review on standard output; 2 when the base or the config cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.config import StackConfigError
from infra.render import parse_override
from infra.stack_file import known_stacks
from policies.review.report import review
from policies.review.sides import BaseError, current_renders, renders_at, renders_in, resolve_base


def main(argv: Sequence[str] | None = None) -> int:
    """Print the review of the working tree's program against the base's renders."""
    parser = argparse.ArgumentParser(prog="make review", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--base", help="git revision of the renders before (default: origin/main)")
    source.add_argument("--before", type=Path, help="a folder of renders before, instead of git")
    parser.add_argument("--stack", choices=known_stacks(), help="the stack --config changes")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        type=parse_override,
        metavar="KEY=VALUE",
        help="change the stack's config as its stack file would (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.config and not args.stack:
        parser.error("--config needs --stack")
    try:
        if args.before is not None:
            label, before = str(args.before), renders_in(args.before)
        else:
            label = resolve_base(args.base)
            before = renders_at(label)
        after = current_renders(args.stack, dict(args.config))
    except (BaseError, StackConfigError) as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(review(before, after, label))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
