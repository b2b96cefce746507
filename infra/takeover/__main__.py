"""``python -m infra.takeover``: the survey and tag-existing (see :mod:`infra.takeover.cli`)."""

from infra.takeover.cli import cli

raise SystemExit(cli())
