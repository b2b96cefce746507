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
from collections.abc import Mapping, Sequence
from typing import IO, Final

from voice_recordings.cli.check import CHECK
from voice_recordings.cli.command import Command, Handler
from voice_recordings.cli.erase import ERASE
from voice_recordings.cli.export import EXPORT
from voice_recordings.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SPOOLED,
    EXIT_USAGE,
    Output,
    problem,
)
from voice_recordings.cli.replay import REPLAY
from voice_recordings.cli.upload import UPLOAD
from voice_recordings.cli.url import URL
from voice_recordings.errors import ConfigError
from voice_recordings.settings import StorageSettings
from voice_recordings.version import package_version

# The exit codes are the command line's interface (its docstring above), so named here too.
__all__ = [
    "COMMANDS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SPOOLED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

# Every subcommand, in the order of the help; each is declared in its own module, beside its
# handler and its arguments: a new one is a module and a line here.
COMMANDS: Final[tuple[Command, ...]] = (CHECK, UPLOAD, URL, REPLAY, ERASE, EXPORT)
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
