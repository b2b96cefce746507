"""``voice-recordings upload``: one file (or standard input) as a recording or transcript, with
progress on stderr and its URL on stdout; exit 3 when it was spooled for ``replay``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import stat
import sys
from typing import IO, Final

from voice_recordings.cli.command import Command
from voice_recordings.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SPOOLED,
    EXIT_USAGE,
    Output,
)
from voice_recordings.cli.progress import ProgressPrinter
from voice_recordings.errors import InvalidInputError, StorageError
from voice_recordings.keys import TRANSCRIPT, VOICE
from voice_recordings.settings import StorageSettings
from voice_recordings.uploader import MinioUploader


def command_upload(args: argparse.Namespace, settings: StorageSettings, output: Output) -> int:
    """Upload one file as a recording (or transcript); print its URL."""
    uploader = MinioUploader(settings)
    when = args.date or dt.datetime.now(dt.UTC)
    kind = TRANSCRIPT if args.transcript else VOICE
    source: IO[bytes]
    if args.file == "-":
        source = sys.stdin.buffer
    else:
        try:
            source = open(args.file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    try:
        total = _check_input(args.file, source)
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        if source is not sys.stdin.buffer:
            source.close()
        return EXIT_USAGE
    progress = ProgressPrinter(f"uploading {args.file}", total, sys.stderr)
    try:
        result = uploader.upload(
            kind,
            source,
            call_uuid=args.call,
            company_id=args.company,
            domain_uuid=args.domain,
            secretary_uuid=args.secretary,
            when=when,
            progress=progress,
        )
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"FAIL upload: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        uploader.close()
    progress.finish()
    print(result.url, file=output.text)
    if result.spooled:
        print(
            f"spooled {result.key} ({result.size} bytes) to {settings.spool_dir}: the server "
            f"could not take it; `voice-recordings replay` uploads it later",
            file=sys.stderr,
        )
        return EXIT_SPOOLED
    print(f"stored {result.key} ({result.size} bytes)", file=sys.stderr)
    return EXIT_OK


def _check_input(name: str, source: IO[bytes]) -> int | None:
    """The input's size (None for a pipe); InvalidInputError unless it is a regular file or a
    pipe (a socket too, for stdin) and holds at least one byte: a device such as /dev/zero
    never ends, a terminal is a forgotten redirection, and an empty recording is a mistake."""
    label = "standard input" if name == "-" else name
    mode = os.fstat(source.fileno()).st_mode
    allowed = stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or (name == "-" and stat.S_ISSOCK(mode))
    if not allowed:
        raise InvalidInputError(
            f"{label} is not a regular file or a pipe ({_file_kind(mode)}): give the path of "
            f"the recording, or pipe it in with `... | voice-recordings upload -`"
        )
    if stat.S_ISREG(mode):
        size = os.fstat(source.fileno()).st_size - source.tell()
        if size <= 0:
            raise InvalidInputError(f"{label} is empty: there is no recording to upload")
        return size
    peek = getattr(source, "peek", None)
    if peek is not None and not peek(1):
        raise InvalidInputError(f"{label} is empty: there is no recording to upload")
    return None


def _file_kind(mode: int) -> str:
    kinds = {
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISDIR: "a directory",
        stat.S_ISSOCK: "a socket",
    }
    return next((text for test, text in kinds.items() if test(mode)), "a special file")


def _date(raw: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {raw!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a timezone, e.g. {raw}+00:00 or {raw}Z")
    return when


def upload_arguments(upload: argparse.ArgumentParser) -> None:
    """``upload``'s arguments."""
    upload.add_argument("file")
    # Validated by the uploader: the library's rule and message.
    upload.add_argument("--company", required=True, help="company id (a positive integer)")
    upload.add_argument("--call", required=True, help="call uuid")
    upload.add_argument("--transcript", action="store_true", help="a transcript, not audio")
    upload.add_argument("--domain", help="domain uuid (metadata)")
    upload.add_argument("--secretary", help="secretary uuid (metadata)")
    upload.add_argument("--date", type=_date, help="call date-time, ISO 8601 (default: now)")


UPLOAD: Final = Command(
    "upload", "upload FILE (- for stdin) and print its URL", command_upload, upload_arguments
)
