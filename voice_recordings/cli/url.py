"""``voice-recordings url KEY``: the URL of a stored recording, refused when the server does
not hold it (its URL would play nothing)."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from voice_recordings.cli.command import Command
from voice_recordings.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Output
from voice_recordings.errors import ConfigError, InvalidInputError
from voice_recordings.keys import parse_key
from voice_recordings.settings import StorageSettings
from voice_recordings.uploader import MinioUploader
from voice_recordings.urls import stored_object_problem


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


def url_arguments(url: argparse.ArgumentParser) -> None:
    """``url``'s arguments."""
    url.add_argument("key")
    url.add_argument("--expires", type=int, help="presigned, valid this many seconds")


URL: Final = Command(
    "url", "print the URL of KEY (refused if it is not stored)", command_url, url_arguments
)
