"""Take over storage made by hand: a read-only survey, and tagging what the old uploader stored.

``python -m infra.takeover`` (:mod:`infra.takeover.cli` documents the command line). Its parts:

- :mod:`~infra.takeover.server`: the admin's S3 client, server errors, the scan of stored objects;
- :mod:`~infra.takeover.desired`: what the stack wants (its offline render), anonymous grants,
  the ``mc admin`` commands for the identities;
- :mod:`~infra.takeover.findings`: the survey's result types;
- :mod:`~infra.takeover.survey`: the survey's checks;
- :mod:`~infra.takeover.tagging`: tag-existing;
- :mod:`~infra.takeover.cli`: the command line and its reports for a person.
"""

from infra.takeover.cli import (
    EXIT_DECISION,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_SAFE,
    EXIT_USAGE,
    build_parser,
    cli,
    print_survey,
    print_tag_report,
)
from infra.takeover.desired import (
    DEFAULT_ALIAS,
    Desired,
    anonymous_grants,
    desired_state,
    identity_commands,
)
from infra.takeover.findings import SEVERITIES, Finding, ObjectCounts, Severity, Survey
from infra.takeover.server import (
    DEFAULT_CONCURRENCY,
    DEFAULT_SAMPLE,
    MAX_CONCURRENCY,
    StoredObject,
    TakeoverError,
    admin_client,
    bucket_exists,
    expected_kind,
    scan,
)
from infra.takeover.survey import survey
from infra.takeover.tagging import MAX_TAGS, TagReport, tag_existing

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_SAMPLE",
    "EXIT_DECISION",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_SAFE",
    "EXIT_USAGE",
    "MAX_CONCURRENCY",
    "MAX_TAGS",
    "SEVERITIES",
    "Desired",
    "Finding",
    "ObjectCounts",
    "Severity",
    "StoredObject",
    "Survey",
    "TagReport",
    "TakeoverError",
    "admin_client",
    "anonymous_grants",
    "bucket_exists",
    "build_parser",
    "cli",
    "desired_state",
    "expected_kind",
    "identity_commands",
    "print_survey",
    "print_tag_report",
    "scan",
    "survey",
    "tag_existing",
]
