"""``voice-recordings export``: a data-subject request for a call's recording and transcript,
every stored version with its metadata, run by a person as the steward
(:mod:`voice_recordings.subject_requests.export`).

It prints one line per version it wrote; with ``--json`` the same report is the document on
stdout (:mod:`voice_recordings.cli.json_documents`), the lines go to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Final

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.cli.command import Command
from voice_recordings.cli.json_documents import export_fields
from voice_recordings.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output, diagnosed, problem
from voice_recordings.diagnostics import diagnose
from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import validate_company_id, validate_token
from voice_recordings.settings import StorageSettings
from voice_recordings.subject_requests.export import export_call
from voice_recordings.subject_requests.export_manifest import MANIFEST
from voice_recordings.uploader import MinioUploader


def command_export(args: argparse.Namespace, settings: StorageSettings, output: Output) -> int:
    """Export every stored version of a call's recording and transcript, with their metadata,
    into ``--to``; 0 only when something was exported and nothing was left out by a problem."""
    out = output.text
    uploader = MinioUploader(settings)
    try:
        company, call = validate_company_id(args.company), validate_token("call_uuid", args.call)
        exported = export_call(
            uploader.client,
            settings.bucket,
            company_id=company,
            call_uuid=call,
            directory=Path(args.to),
            day=args.day,
        )
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        output.record(error=problem("usage", str(exc)))
        return EXIT_USAGE
    except (ClientError, BotoCoreError) as exc:
        print(f"FAIL export: {diagnose(exc)}", file=out)
        output.record(error=diagnosed(diagnose(exc)))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return output.interrupted(
            f"interrupted: export stopped; {Path(args.to) / MANIFEST} (if any file was written) "
            f"lists exactly the files there, status interrupted; export again into a new "
            f"directory"
        )
    finally:
        uploader.close()
    output.record(**export_fields(company, call, args.day, exported))
    for item in exported.files:
        print(
            f"exported {item.key} version {item.version_id} -> {item.path} (sha256 {item.sha256})",
            file=out,
        )
    for left in exported.not_exported:
        print(f"NOT EXPORTED {left.key} version {left.version_id}: {left.reason}", file=out)
    if not exported.files:
        print(f"nothing exported for call {args.call} of company {args.company}", file=out)
        return EXIT_FAILED
    print(f"manifest: {exported.manifest}", file=out)
    return EXIT_OK if exported.complete else EXIT_FAILED


def _day(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {raw!r}") from None


def export_arguments(export_parser: argparse.ArgumentParser) -> None:
    """``export``'s arguments."""
    export_parser.add_argument("--company", required=True, help="company id (a positive integer)")
    export_parser.add_argument("--call", required=True, help="call uuid")
    export_parser.add_argument("--to", required=True, help="the directory to write into")
    export_parser.add_argument(
        "--day",
        type=_day,
        help="the call's UTC date, YYYY-MM-DD (needed with keys that cannot list: the reader's)",
    )


EXPORT: Final = Command(
    "export",
    "export a call's recording and transcript with their metadata",
    command_export,
    export_arguments,
    json=True,
)
