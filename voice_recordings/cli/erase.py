"""``voice-recordings erase``: a data-subject request (or a company leaving), run by a person as
the steward (:mod:`voice_recordings.subject_requests.erasure`): a dry run unless ``--yes``.

It prints one line per version it dealt with; with ``--json`` the same report is the document
on stdout (:mod:`voice_recordings.cli.json_documents`), the lines go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, Final

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.cli.command import Command
from voice_recordings.cli.json_documents import erase_fields
from voice_recordings.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output, diagnosed, problem
from voice_recordings.diagnostics import diagnose
from voice_recordings.errors import InvalidInputError
from voice_recordings.settings import StorageSettings
from voice_recordings.subject_requests.erasure import (
    ErasureReport,
    ErasureRequest,
    StoredVersion,
    erase,
)
from voice_recordings.subject_requests.erasure_report import (
    ReportJournal,
    default_report_name,
    now_text,
)
from voice_recordings.uploader import MinioUploader


def command_erase(args: argparse.Namespace, settings: StorageSettings, output: Output) -> int:
    """Erase a call (or a whole company): a dry run unless ``--yes``; 0 only when nothing of it
    remains (or, in a dry run, when it listed). With ``--yes`` the report is opened first (a
    path that cannot be written is refused before anything is deleted) and journalled as the
    erasure goes (:mod:`voice_recordings.subject_requests.erasure_report`)."""
    out = output.text
    try:
        request = ErasureRequest(args.company, args.call)
        journal = (
            ReportJournal.open(Path(args.report or default_report_name(request)), request)
            if args.yes
            else None
        )
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        output.record(error=problem("usage", str(exc)))
        return EXIT_USAGE
    report_file = None if journal is None else journal.path
    output.record(report_file=None if report_file is None else str(report_file))
    uploader = MinioUploader(settings)
    try:
        report = erase(
            uploader.client,
            settings.bucket,
            request,
            endpoint=settings.endpoint_url,
            identity=settings.access_key,
            dry_run=not args.yes,
            journal=journal,
        )
    except KeyboardInterrupt:
        where = "nothing was removed (dry run)"
        if journal is not None:
            journal.write("interrupted", at=now_text())
            where = f"what was removed so far is recorded in {journal.path}"
        return output.interrupted(
            f"interrupted: {where}; run the same command again to finish (it appends to the "
            f"same report)"
        )
    except (ClientError, BotoCoreError) as exc:
        if journal is not None:
            journal.write("stopped", at=now_text(), error=str(diagnose(exc)))
        print(f"FAIL erase: {diagnose(exc)}", file=out)
        output.record(error=diagnosed(diagnose(exc)))
        return EXIT_FAILED
    finally:
        uploader.close()
        if journal is not None:
            journal.close()
    output.record(**erase_fields(report, report_file))
    return _print_erasure(report, report_file, out)


def _print_erasure(report: ErasureReport, report_file: Path | None, out: IO[str]) -> int:
    """The erasure's lines for people; its exit code."""
    request = report.request
    if report_file is None:
        print(f"would erase {len(report.remaining)} version(s) of {request.describe()}:", file=out)
        for version in report.remaining:
            print(f"  {_version_line(version)}", file=out)
        print("dry run: nothing removed; run again with --yes to erase", file=out)
        return EXIT_OK
    print(
        f"erased {len(report.removed)} version(s) of {request.describe()}; report: {report_file}",
        file=out,
    )
    for key in report.left_alone:
        print(f"LEFT    {key}: outside the key layout, never erased (decide by hand)", file=out)
    for version in report.landed_after:
        print(
            f"LATE    {_version_line(version)}: landed after the erasure began, removed", file=out
        )
    for version, error in report.failed:
        print(f"FAILED  {_version_line(version)}: {error}", file=out)
    for version in report.remaining:
        print(f"REMAINS {_version_line(version)}", file=out)
    if not report.complete:
        print("not complete: run it again (it removes what remains)", file=out)
        return EXIT_FAILED
    return EXIT_OK


def _version_line(version: StoredVersion) -> str:
    what = "delete marker" if version.delete_marker else f"{version.size} bytes"
    return f"{version.key} version {version.version_id} ({what}, {version.last_modified})"


def erase_arguments(erase_parser: argparse.ArgumentParser) -> None:
    """``erase``'s arguments."""
    erase_parser.add_argument("--company", required=True, help="company id (a positive integer)")
    erase_parser.add_argument("--call", help="call uuid (default: every call of the company)")
    mode = erase_parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="list what would go (the default)")
    mode.add_argument("--yes", action="store_true", help="erase, then check nothing remains")
    erase_parser.add_argument(
        "--report",
        help="the report to append to (JSON Lines; default erasure-company_N[-CALL].jsonl)",
    )


ERASE: Final = Command(
    "erase",
    "erase every version of a call (or a company): a dry run unless --yes",
    command_erase,
    erase_arguments,
    json=True,
)
