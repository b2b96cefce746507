"""``voice-recordings check``: every troubleshooting check, one line each, with the fix (the
steps themselves: :mod:`voice_recordings.cli.checks`)."""

from __future__ import annotations

import argparse
from typing import Final

from voice_recordings.cli.checks import run_checks
from voice_recordings.cli.command import Command
from voice_recordings.cli.json_documents import check_fields
from voice_recordings.cli.output import EXIT_FAILED, EXIT_OK, Output
from voice_recordings.settings import StorageSettings
from voice_recordings.uploader import MinioUploader


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


CHECK: Final = Command(
    "check",
    "the troubleshooting checks, one line each, with the fix",
    command_check,
    json=True,
)
