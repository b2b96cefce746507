"""What a ``voice-recordings`` subcommand is: a name, a help line, a handler, its arguments.

Each command's module declares its :class:`Command` beside its handler and its arguments;
:mod:`voice_recordings.cli` lists them in :data:`~voice_recordings.cli.COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from voice_recordings.cli.output import Output
from voice_recordings.settings import StorageSettings

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
