"""Take over storage made by hand: a read-only survey, and tagging what the old uploader stored.

    python -m infra.takeover survey --stack prod [--config KEY=VALUE ...] [--json]
    python -m infra.takeover tag-existing --stack prod [--config KEY=VALUE ...] [--apply]

Both read the live server through the S3 API as the provider's admin (``MINIO_USER`` /
``MINIO_PASSWORD``, the same variables the provider reads), at the stack's ``endpoint``, and
compare it with the stack's desired state: the offline render of the program
(:func:`infra.mocked_run.run_program`, under Pulumi's mocks; no engine, plugin or CLI is needed).
The stack's config is the one ``pulumi`` would read here: the stack file of the project in the
current directory (:func:`infra.project.find_project`; a project directory of its own, or the
clone), so a survey sees the endpoint and CA the stack is deployed with.

``survey`` changes nothing. It reports the bucket, its versioning, lifecycle, bucket policy
(and what it grants to anyone without a key), encryption, and the objects: how many follow the
key layout, how many lack the ``kind`` tag the lifecycle selects by, which do not follow the
layout. Each finding has a severity and the action to take. Identities (users, policies,
service accounts) live behind MinIO's admin API, which this tool does not fake: the survey lists
the ``mc admin`` commands that show them.

``tag-existing`` sets the ``kind`` tag on every stored object version whose key parses as a
recording or transcript and that has no ``kind`` tag (a dry run unless ``--apply``). It only
calls S3's object tagging API (``PutObjectTagging``, keeping any other tag), which never
rewrites an object's bytes or metadata. A second run finds nothing to do, so an interrupted run
is resumed by running it again.

Exit codes: ``survey``: 0 adoption is safe as configured, 1 a finding needs a decision, 2 usage,
configuration or connection error. ``tag-existing``: 0 done (or nothing to do), 1 some objects
could not be tagged (listed), 2 usage, configuration or connection error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TextIO

from infra.config import StackConfigError, full_key, parse_stack_config
from infra.project import REPOSITORY, find_project
from infra.stack_file import load_stack_config
from infra.takeover.desired import DEFAULT_ALIAS, describe_grants, desired_state, grant_pairs
from infra.takeover.findings import SEVERITIES, Survey
from infra.takeover.server import (
    DEFAULT_CONCURRENCY,
    DEFAULT_SAMPLE,
    MAX_CONCURRENCY,
    TakeoverError,
    admin_client,
)
from infra.takeover.survey import survey
from infra.takeover.tagging import TagReport, tag_existing

EXIT_SAFE: Final = 0
EXIT_DECISION: Final = 1
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130


class _Progress:
    """At most one progress line a second on stderr (a bucket may hold millions of objects)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0

    def __call__(self, text: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self.last >= 1.0:
            self.last = now
            print(text, file=self.stream, flush=True)


def _parse_override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--config wants KEY=VALUE, got {text!r}")
    return (key if ":" in key else full_key(key)), value


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {low} to {high}, got {text!r}"
            )
        return int(text)

    return parse


def print_survey(result: Survey, out: TextIO) -> None:
    """The survey for a person."""

    def p(text: str = "") -> None:
        print(text, file=out)

    p(
        f"Survey of bucket {result.bucket} on {result.endpoint} (stack {result.stack}, "
        f"adoptExisting={str(result.adopt_existing).lower()}); nothing was changed"
    )
    p(f"  bucket         {'exists' if result.bucket_exists else 'does not exist'}")
    if result.bucket_exists:
        counts = result.objects
        rules = ", ".join(str(r.get("ID")) for r in result.lifecycle_rules) or "none"
        anonymous = describe_grants(grant_pairs(result.anonymous_access)) or "none"
        p(f"  versioning     {result.versioning}")
        p(f"  lifecycle      {rules}")
        p(f"  bucket policy  {'set' if result.bucket_policy else 'none'}; anonymous: {anonymous}")
        p(f"  encryption     {json.dumps(result.encryption) if result.encryption else 'none'}")
        p(
            f"  objects        {counts.total} ({counts.conforming} in the key layout, "
            f"{counts.untagged} of them without the kind tag, {counts.mistagged} mistagged; "
            f"{counts.nonconforming} outside the layout; {counts.erasure_markers} erasure "
            f"markers, the steward's record: keep them)"
        )
        for key in counts.nonconforming_sample:
            p(f"    outside the layout: {key}")
    p("Findings:")
    for severity in SEVERITIES:
        for finding in (f for f in result.findings if f.severity == severity):
            p(f"  {severity.upper():8} {finding.id}: {finding.message}")
            p(f"           -> {finding.action}")
    p("Identities live behind MinIO's admin API; check them yourself:")
    for command in result.identity_commands:
        p(f"  {command['command']}")
        p(f"      expect: {command['expect']}")
    decisions = sum(f.severity == "decision" for f in result.findings)
    p(
        "Verdict: adoption is safe as configured"
        if result.safe
        else f"Verdict: {decisions} finding(s) need a decision before `pulumi up`"
    )


def print_tag_report(report: TagReport, out: TextIO) -> None:
    """The tag-existing summary for a person."""
    if report.applied:
        p = f"tagged {report.tagged} object version(s)"
    else:
        p = f"dry run: {report.to_tag} object version(s) would be tagged (run with --apply)"
    print(
        f"{p}; scanned {report.scanned}, already tagged {report.already_tagged}, "
        f"outside the key layout (skipped) {report.nonconforming_count}, failed "
        f"{len(report.failed)}",
        file=out,
    )
    for label in report.sample if not report.applied else []:
        print(f"  would tag: {label}", file=out)
    for label in report.nonconforming:
        print(f"  skipped (outside the key layout): {label}", file=out)
    for error in report.failed:
        print(f"  FAILED {error}", file=out)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m infra.takeover`` (docs/operating.md's runbook tests it)."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.takeover", description=(__doc__ or "").split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("survey", "read the server and report it against the stack (changes nothing)"),
        ("tag-existing", "set the kind tag on recordings and transcripts that lack it"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--stack", required=True, help="the stack (Pulumi.<stack>.yaml)")
        command.add_argument(
            "--config",
            action="append",
            default=[],
            type=_parse_override,
            metavar="KEY=VALUE",
            help="override a stack config value, like `pulumi up --config` (repeatable)",
        )
        command.add_argument(
            "--concurrency",
            type=_bounded(1, MAX_CONCURRENCY),
            default=DEFAULT_CONCURRENCY,
            help=f"requests in flight (default {DEFAULT_CONCURRENCY})",
        )
        command.add_argument(
            "--sample",
            type=_bounded(0, 10_000),
            default=DEFAULT_SAMPLE,
            help=f"how many keys to list per category (default {DEFAULT_SAMPLE})",
        )
        command.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "survey":
            command.add_argument(
                "--alias", default=DEFAULT_ALIAS, help="the mc alias in the printed commands"
            )
        else:
            command.add_argument(
                "--apply", action="store_true", help="tag (default: a dry run that only counts)"
            )
    return parser


def cli(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """``python -m infra.takeover``; returns the exit status."""
    args = build_parser().parse_args(argv)
    progress = _Progress(sys.stderr)
    try:
        overrides = dict(args.config)
        project = find_project() or REPOSITORY
        if args.command == "survey":
            desired = desired_state(args.stack, overrides, project)
            s3 = admin_client(desired.config, env)
            result = survey(
                s3,
                desired,
                concurrency=args.concurrency,
                sample=args.sample,
                alias=args.alias,
                progress=lambda n: progress(f"survey: {n} object versions read"),
            )
            if args.json:
                print(json.dumps(result.to_json(), indent=2, sort_keys=True, default=str))
            else:
                print_survey(result, sys.stdout)
            return EXIT_SAFE if result.safe else EXIT_DECISION
        config = parse_stack_config(load_stack_config(args.stack, overrides, project))
        s3 = admin_client(config, env)
        verb = "tagged" if args.apply else "to tag"
        report = tag_existing(
            s3,
            config.bucket,
            apply=args.apply,
            concurrency=args.concurrency,
            sample=args.sample,
            progress=lambda r: progress(
                f"tag-existing: scanned {r.scanned}, {verb} {r.tagged or r.to_tag}, "
                f"failed {len(r.failed)}"
            ),
        )
        if args.json:
            print(json.dumps(report.to_json(), indent=2, sort_keys=True))
        else:
            print_tag_report(report, sys.stdout)
        return EXIT_FAILED if report.failed else EXIT_SAFE
    except (StackConfigError, TakeoverError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "interrupted: every object is either tagged or untouched; run the same command "
            "again to finish (tagged objects are skipped)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
