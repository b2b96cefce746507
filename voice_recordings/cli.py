"""``voice-recordings``: the specification's troubleshooting as commands.

    voice-recordings check                       every check, one line each, with the fix
    voice-recordings upload FILE --company N --call ID [--transcript]
    voice-recordings url KEY [--expires SECONDS]
    voice-recordings replay [--metrics-file F]   upload what the spool holds (F: node_exporter)
    voice-recordings erase --company N [--call ID] [--yes]   a data-subject request, or a company
    voice-recordings export --company N --call ID --to DIR   a call's recording, for its subject

Settings come from the MINIO_* environment, as in the service. Exit codes: 0 success; 1 a check
or an operation failed (the output says which, with the fix); 2 usage or configuration error;
3 (``upload`` only) the server could not take the file and it was spooled for ``replay``;
130 interrupted (Ctrl-C): one line says what stands.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.checks import run_checks
from voice_recordings.diagnostics import diagnose
from voice_recordings.erasure import ErasureRequest, StoredVersion, erase
from voice_recordings.erasure_report import ReportJournal, default_report_name, now_text
from voice_recordings.errors import ConfigError, InvalidInputError, StorageError
from voice_recordings.export import export_call
from voice_recordings.keys import TRANSCRIPT, VOICE, parse_key
from voice_recordings.metrics import UploadMetrics
from voice_recordings.metrics_textfile import textfile_metrics, write_textfile

# PROBE_KEY is re-exported: older takeover tools and tests import it from here.
from voice_recordings.permissions import PROBE_KEY as PROBE_KEY
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.uploader import MinioUploader

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_SPOOLED: Final = 3
# Ctrl-C: the shell's code for SIGINT (128 + 2).
EXIT_INTERRUPTED: Final = 130


# -- check (its steps: voice_recordings.checks) -------------------------------------------------


def command_check(_: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Print every check; 0 if none failed, else 1."""
    uploader = MinioUploader(settings)
    print(
        f"OK   {'settings':<13} endpoint={settings.endpoint_url} bucket={settings.bucket} "
        f"region={settings.region} url_mode={settings.url_mode}",
        file=out,
        flush=True,
    )
    failed = False
    for result in run_checks(settings, uploader):
        print(result, file=out, flush=True)
        failed = failed or result.status == "FAIL"
    uploader.close()
    return EXIT_FAILED if failed else EXIT_OK


# -- upload, url, replay ------------------------------------------------------------------------


class ProgressPrinter:
    """Bytes sent so far, on stderr, at most twice a second (a line each 5 s when not a tty)."""

    def __init__(self, label: str, total: int | None, stream: IO[str]) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.done = 0
        self._tty = stream.isatty()
        self._interval = 0.5 if self._tty else 5.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, sent: int) -> None:
        with self._lock:
            self.done += sent
            now = time.monotonic()
            if now - self._last >= self._interval:
                self._last = now
                self._print()

    def finish(self) -> None:
        """The last figure (and a newline on a tty)."""
        with self._lock:
            self._print()
            if self._tty:
                self.stream.write("\n")

    def _print(self) -> None:
        mib = 1024 * 1024
        line = f"{self.label}: {self.done / mib:.1f} MiB"
        if self.total:
            line += f" of {self.total / mib:.1f} MiB ({100 * self.done // self.total}%)"
        self.stream.write(f"\r{line}" if self._tty else f"{line}\n")
        self.stream.flush()


def command_upload(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
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
    print(result.url, file=out)
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


def command_url(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Print the URL of a stored object (presigned for ``--expires`` seconds if given)."""
    try:
        key = parse_key(args.key).key
        uploader = MinioUploader(settings)
        url = (
            uploader.presigned_url(key, args.expires)
            if args.expires is not None
            else uploader.url_for(key)
        )
    except (InvalidInputError, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    print(url, file=out)
    return EXIT_OK


def command_replay(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Upload the spool; 0 when it is empty afterwards, else 1 (one line per problem)."""
    metrics_file: Path | None = args.metrics_file
    metrics = None if metrics_file is None else textfile_metrics(metrics_file)
    uploader = MinioUploader(settings, metrics=metrics)
    if uploader.spool is None:
        print(f"the spool is disabled ({Env.SPOOL_DIR}=off): nothing to replay", file=out)
        return EXIT_OK
    try:
        waiting = uploader.spool.count()
        print(f"{waiting} item(s) in {uploader.spool.directory}", file=sys.stderr, flush=True)
        report = uploader.replay_spool(
            progress=lambda line: print(line, file=sys.stderr, flush=True)
        )
    except OSError as exc:  # the spool itself: not ours, not a directory, unreadable
        print(f"FAIL replay: {exc}", file=out)
        return EXIT_FAILED
    finally:
        uploader.close()
        if metrics_file is not None:
            _write_metrics_file(metrics_file, uploader.metrics)
    print(
        f"uploaded {len(report.uploaded)}, already stored {len(report.already_stored)}, "
        f"erased {len(report.erased)} (dropped), corrupt {len(report.corrupt)} (kept), not "
        f"ours {len(report.foreign)} (kept), failed {len(report.failed)} (kept), busy "
        f"{report.busy}, remaining {report.remaining}",
        file=out,
    )
    for key, reason in report.erased:
        print(f"ERASED  {key}: dropped, not uploaded: {reason}", file=out)
    for name, reason in report.corrupt:
        print(f"CORRUPT {name}: {reason}", file=out)
    for name, reason in report.foreign:
        print(f"FOREIGN {name}: {reason}", file=out)
    for key, reason in report.failed:
        print(f"FAILED  {key}: {reason}", file=out)
    if report.stopped is not None:
        print(f"STOPPED {report.stopped}", file=out)
    return EXIT_OK if report.ok else EXIT_FAILED


# -- data-subject requests: erase, export (voice_recordings.erasure, voice_recordings.export) --


def command_erase(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Erase a call (or a whole company): a dry run unless ``--yes``; 0 only when nothing of it
    remains (or, in a dry run, when it listed). With ``--yes`` the report is opened first (a
    path that cannot be written is refused before anything is deleted) and journalled as the
    erasure goes (:mod:`voice_recordings.erasure_report`)."""
    try:
        request = ErasureRequest(args.company, args.call)
        journal = (
            ReportJournal.open(Path(args.report or default_report_name(request)), request)
            if args.yes
            else None
        )
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
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
        print(
            f"interrupted: {where}; run the same command again to finish (it appends to the "
            f"same report)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (ClientError, BotoCoreError) as exc:
        if journal is not None:
            journal.write("stopped", at=now_text(), error=str(diagnose(exc)))
        print(f"FAIL erase: {diagnose(exc)}", file=out)
        return EXIT_FAILED
    finally:
        uploader.close()
        if journal is not None:
            journal.close()
    if journal is None:
        print(f"would erase {len(report.remaining)} version(s) of {request.describe()}:", file=out)
        for version in report.remaining:
            print(f"  {_version_line(version)}", file=out)
        print("dry run: nothing removed; run again with --yes to erase", file=out)
        return EXIT_OK
    print(
        f"erased {len(report.removed)} version(s) of {request.describe()}; report: {journal.path}",
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


def _erase_arguments(erase_parser: argparse.ArgumentParser) -> None:
    erase_parser.add_argument("--company", required=True, help="company id (a positive integer)")
    erase_parser.add_argument("--call", help="call uuid (default: every call of the company)")
    mode = erase_parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="list what would go (the default)")
    mode.add_argument("--yes", action="store_true", help="erase, then check nothing remains")
    erase_parser.add_argument(
        "--report",
        help="the report to append to (JSON Lines; default erasure-company_N[-CALL].jsonl)",
    )


def command_export(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Export every stored version of a call's recording and transcript, with their metadata,
    into ``--to``; 0 only when something was exported and nothing was left out by a problem."""
    uploader = MinioUploader(settings)
    try:
        exported = export_call(
            uploader.client,
            settings.bucket,
            company_id=args.company,
            call_uuid=args.call,
            directory=Path(args.to),
            day=args.day,
        )
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except (ClientError, BotoCoreError) as exc:
        print(f"FAIL export: {diagnose(exc)}", file=out)
        return EXIT_FAILED
    finally:
        uploader.close()
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


def _export_arguments(export_parser: argparse.ArgumentParser) -> None:
    export_parser.add_argument("--company", required=True, help="company id (a positive integer)")
    export_parser.add_argument("--call", required=True, help="call uuid")
    export_parser.add_argument("--to", required=True, help="the directory to write into")
    export_parser.add_argument(
        "--day",
        type=_day,
        help="the call's UTC date, YYYY-MM-DD (needed with keys that cannot list: the reader's)",
    )


# -- entry point --------------------------------------------------------------------------------


def _date(raw: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {raw!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a timezone, e.g. {raw}+00:00 or {raw}Z")
    return when


def _upload_arguments(upload: argparse.ArgumentParser) -> None:
    upload.add_argument("file")
    # Validated by the uploader: the library's rule and message.
    upload.add_argument("--company", required=True, help="company id (a positive integer)")
    upload.add_argument("--call", required=True, help="call uuid")
    upload.add_argument("--transcript", action="store_true", help="a transcript, not audio")
    upload.add_argument("--domain", help="domain uuid (metadata)")
    upload.add_argument("--secretary", help="secretary uuid (metadata)")
    upload.add_argument("--date", type=_date, help="call date-time, ISO 8601 (default: now)")


def _url_arguments(url: argparse.ArgumentParser) -> None:
    url.add_argument("key")
    url.add_argument("--expires", type=int, help="presigned, valid this many seconds")


def _replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics-file",
        type=Path,
        metavar="FILE",
        help="write the run's metrics, counts added to the file's, for node_exporter's textfile "
        "collector (a FILE ending in .prom in its directory)",
    )


def _write_metrics_file(path: Path, metrics: UploadMetrics) -> None:
    """Replay's metrics to ``path``; a failure is one line on stderr (the replay itself
    happened; the alert on replay not running tells of a file that stays stale)."""
    try:
        write_textfile(path, metrics)
    except OSError as exc:
        print(f"WARN metrics-file {path} not written: {exc}", file=sys.stderr)


Handler = Callable[[argparse.Namespace, StorageSettings, IO[str]], int]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name and help line, its handler, and its arguments (if any)."""

    name: str
    help: str
    handler: Handler
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


# Every subcommand, registered once: a new one is one entry here (and its handler).
COMMANDS: Final[tuple[Command, ...]] = (
    Command("check", "the troubleshooting checks, one line each, with the fix", command_check),
    Command(
        "upload",
        "upload FILE (- for stdin) and print its URL",
        command_upload,
        _upload_arguments,
    ),
    Command("url", "print the URL of KEY", command_url, _url_arguments),
    Command(
        "replay",
        "upload what the spool holds, remove what is verified",
        command_replay,
        _replay_arguments,
    ),
    Command(
        "erase",
        "erase every version of a call (or a company): a dry run unless --yes",
        command_erase,
        _erase_arguments,
    ),
    Command(
        "export",
        "export a call's recording and transcript with their metadata",
        command_export,
        _export_arguments,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one subcommand per entry of :data:`COMMANDS`)."""
    parser = argparse.ArgumentParser(
        prog="voice-recordings",
        description="Voice AI call recordings on MinIO: check, upload, url, replay, erase, export. "
        "Settings "
        "come from the MINIO_* environment variables.",
        epilog="Exit codes: 0 ok; 1 a check or operation failed; 2 usage or configuration "
        "error; 3 upload spooled (the server could not take it); 130 interrupted (Ctrl-C).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the library's lines")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(command.name, help=command.help)
        if command.arguments is not None:
            command.arguments(sub)
        sub.set_defaults(handler=command.handler)
    return parser


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    out: IO[str] | None = None,
) -> int:
    """Run the command; return the exit code (``env`` defaults to ``os.environ``)."""
    args = build_parser().parse_args(argv)
    stdout = out or sys.stdout
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = StorageSettings.from_env(env)
    except ConfigError as exc:
        print(f"FAIL settings      {exc}", file=stdout)
        return EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args, settings, stdout)
    except KeyboardInterrupt:
        # One line, no traceback: an upload stops before it is stored or spooled (the file is
        # untouched), a replay keeps every entry it had not verified, so running it again is safe.
        print(
            f"interrupted: {args.command} stopped; what it finished stands and nothing half-done "
            f"was kept; run it again",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
