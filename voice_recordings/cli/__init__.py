"""``voice-recordings``: the specification's troubleshooting as commands.

    voice-recordings check [--json]              every check, one line each, with the fix
    voice-recordings upload FILE --company N --call ID [--transcript]
    voice-recordings url KEY [--expires SECONDS] the URL of a stored recording (refused if none)
    voice-recordings replay [--metrics-file F] [--json]   upload what the spool holds
    voice-recordings erase --company N [--call ID] [--yes] [--json]   a data-subject request
    voice-recordings export --company N --call ID --to DIR [--json]   a call's recording
    voice-recordings --version

Settings come from the MINIO_* environment, as in the service. Exit codes: 0 success; 1 a check
or an operation failed (the output says which, with the fix); 2 usage or configuration error;
3 (``upload`` only) the server could not take the file and it was spooled for ``replay``;
130 interrupted (Ctrl-C): one line says what stands. ``--json`` prints one JSON document on
stdout instead of the lines, which go to stderr (:mod:`voice_recordings.cli.output`); the exit
codes are the same.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from voice_recordings.cli.checks import run_checks
from voice_recordings.cli.erase import (
    command_erase,
    command_export,
    erase_arguments,
    export_arguments,
)
from voice_recordings.cli.json_documents import check_fields, replay_fields
from voice_recordings.cli.metrics_textfile import textfile_metrics, write_textfile
from voice_recordings.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SPOOLED,
    EXIT_USAGE,
    Output,
    diagnosed,
    problem,
)

# ProgressPrinter is upload's (voice_recordings.cli.progress); named here as it always was.
from voice_recordings.cli.progress import ProgressPrinter as ProgressPrinter
from voice_recordings.cli.upload import command_upload, upload_arguments
from voice_recordings.errors import ConfigError, InvalidInputError
from voice_recordings.keys import parse_key
from voice_recordings.metrics import UploadMetrics

# PROBE_KEY is re-exported: older takeover tools and tests import it from here.
from voice_recordings.permissions import PROBE_KEY as PROBE_KEY
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.uploader import MinioUploader
from voice_recordings.urls import stored_object_problem
from voice_recordings.version import package_version

__all__ = [
    "COMMANDS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SPOOLED",
    "EXIT_USAGE",
    "PROBE_KEY",
    "ProgressPrinter",
    "build_parser",
    "main",
]


# -- check (its steps: voice_recordings.cli.checks) ----------------------------------------


def command_check(_: argparse.Namespace, settings: StorageSettings, output: Output) -> int:
    """Print every check; 0 if none failed, else 1."""
    out = output.text
    uploader = MinioUploader(settings)
    print(
        f"OK   {'settings':<13} endpoint={settings.endpoint_url} bucket={settings.bucket} "
        f"region={settings.region} url_mode={settings.url_mode}",
        file=out,
        flush=True,
    )
    results = []
    for result in run_checks(settings, uploader):
        print(result, file=out, flush=True)
        results.append(result)
    uploader.close()
    output.record(**check_fields(settings, results))
    return EXIT_FAILED if any(r.status == "FAIL" for r in results) else EXIT_OK


# -- url, replay --------------------------------------------------------------------------------


def command_url(args: argparse.Namespace, settings: StorageSettings, output: Output) -> int:
    """Print the URL of a stored object (presigned for ``--expires`` seconds if given); a key
    the server does not hold is refused (exit 1), since its URL would play nothing. When the
    server cannot be asked (down, unreachable), the URL is printed with a warning: a recording
    spooled meanwhile plays under it once ``replay`` delivers it."""
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
    try:
        found = stored_object_problem(uploader.client, settings.bucket, key)
    finally:
        uploader.close()
    if found is not None and not found.transient:
        print(f"FAIL url: {found}", file=sys.stderr)
        return EXIT_FAILED
    if found is not None:
        print(
            f"WARN url: could not check that {key} is stored ({found.summary}); its URL anyway",
            file=sys.stderr,
        )
    print(url, file=output.text)
    return EXIT_OK


def command_replay(args: argparse.Namespace, settings: StorageSettings, output: Output) -> int:
    """Upload the spool; 0 when it is empty afterwards, else 1 (one line per problem)."""
    out = output.text
    metrics_file: Path | None = args.metrics_file
    metrics = None if metrics_file is None else textfile_metrics(metrics_file)
    uploader = MinioUploader(settings, metrics=metrics)
    if uploader.spool is None:
        print(f"the spool is disabled ({Env.SPOOL_DIR}=off): nothing to replay", file=out)
        output.record(**replay_fields(None, None, None))
        return EXIT_OK
    spool, waiting = uploader.spool.directory, None
    try:
        waiting = uploader.spool.count()
        print(f"{waiting} item(s) in {spool}", file=sys.stderr, flush=True)
        report = uploader.replay_spool(
            progress=lambda line: print(line, file=sys.stderr, flush=True)
        )
    except OSError as exc:  # the spool itself: not ours, not a directory, unreadable
        print(f"FAIL replay: {exc}", file=out)
        output.record(**replay_fields(spool, waiting, None), error=problem("spool", str(exc)))
        return EXIT_FAILED
    finally:
        uploader.close()
        if metrics_file is not None:
            _write_metrics_file(metrics_file, uploader.metrics)
    output.record(**replay_fields(spool, waiting, report))
    if report.stopped is not None:
        output.record(error=diagnosed(report.stopped))
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


# -- entry point --------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, StorageSettings, Output], int]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name and help line, its handler, its arguments (if any), and whether
    it offers ``--json``."""

    name: str
    help: str
    handler: Handler
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    json: bool = False


# Every subcommand, registered once: a new one is one entry here (and its handler).
COMMANDS: Final[tuple[Command, ...]] = (
    Command(
        "check",
        "the troubleshooting checks, one line each, with the fix",
        command_check,
        json=True,
    ),
    Command(
        "upload", "upload FILE (- for stdin) and print its URL", command_upload, upload_arguments
    ),
    Command(
        "url", "print the URL of KEY (refused if it is not stored)", command_url, _url_arguments
    ),
    Command(
        "replay",
        "upload what the spool holds, remove what is verified",
        command_replay,
        _replay_arguments,
        json=True,
    ),
    Command(
        "erase",
        "erase every version of a call (or a company): a dry run unless --yes",
        command_erase,
        erase_arguments,
        json=True,
    ),
    Command(
        "export",
        "export a call's recording and transcript with their metadata",
        command_export,
        export_arguments,
        json=True,
    ),
)
JSON_HELP: Final = (
    "print one JSON document on stdout (the lines go to stderr; same exit codes): for scripts "
    "and cron, its shape in docs/runtime.md"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one subcommand per entry of :data:`COMMANDS`)."""
    parser = argparse.ArgumentParser(
        prog="voice-recordings",
        description="Voice AI call recordings on MinIO: check, upload, url, replay, erase, export. "
        "Settings come from the MINIO_* environment variables.",
        epilog="Exit codes: 0 ok; 1 a check or operation failed; 2 usage or configuration "
        "error; 3 upload spooled (the server could not take it); 130 interrupted (Ctrl-C).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the library's lines")
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(command.name, help=command.help)
        if command.arguments is not None:
            command.arguments(sub)
        if command.json:
            sub.add_argument("--json", action="store_true", help=JSON_HELP)
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
    as_json = bool(getattr(args, "json", False))
    # With --json, stdout holds the document alone: every line for people goes to stderr.
    output = Output(sys.stderr if as_json else stdout, json=as_json)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    code = _run(args, env, output)
    output.write_document(stdout, args.command, code)
    return code


def _run(args: argparse.Namespace, env: Mapping[str, str] | None, output: Output) -> int:
    try:
        settings = StorageSettings.from_env(env)
    except ConfigError as exc:
        print(f"FAIL settings      {exc}", file=output.text)
        output.record(error=problem("settings", str(exc)))
        return EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args, settings, output)
    except KeyboardInterrupt:
        # One line, no traceback: an upload stops before it is stored or spooled (the file is
        # untouched), a replay keeps every entry it had not verified, so running it again is safe.
        return output.interrupted(
            f"interrupted: {args.command} stopped; what it finished stands and nothing half-done "
            f"was kept; run it again"
        )


if __name__ == "__main__":
    sys.exit(main())
