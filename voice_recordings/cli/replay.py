"""``voice-recordings replay``: upload what the spool holds, remove what is verified (the
replay itself: :mod:`voice_recordings.spool.replay`); with ``--metrics-file``, the run's
metrics for node_exporter (:mod:`voice_recordings.cli.metrics_textfile`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from voice_recordings.cli.command import Command
from voice_recordings.cli.json_documents import replay_fields
from voice_recordings.cli.metrics_textfile import textfile_metrics, write_textfile
from voice_recordings.cli.output import EXIT_FAILED, EXIT_OK, Output, diagnosed, problem
from voice_recordings.metrics import UploadMetrics
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.uploader import MinioUploader


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


def replay_arguments(parser: argparse.ArgumentParser) -> None:
    """``replay``'s arguments."""
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


REPLAY: Final = Command(
    "replay",
    "upload what the spool holds, remove what is verified",
    command_replay,
    replay_arguments,
    json=True,
)
