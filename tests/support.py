"""Helpers shared by the test packages (not fixtures: see the conftest files for those)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class GeneratedStream(io.RawIOBase):
    """A non-seekable stream of ``size`` bytes made on the fly (like a pipe or a socket).

    It never exists whole in memory; ``sha`` is the digest of what was read so far, and
    ``largest_read`` the largest read asked of it (to prove a reader streams in chunks).
    """

    def __init__(self, size: int) -> None:
        self.remaining, self.largest_read = size, 0
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.largest_read = max(self.largest_read, len(buffer))
        n = min(len(buffer), self.remaining)
        chunk = bytes([self.remaining % 251]) * n
        buffer[:n] = chunk
        self.sha.update(chunk)
        self.remaining -= n
        return n


def run_python(script: str, *args: str, timeout: float = 120) -> str:
    """Run ``script`` in a child Python at the repository root; return its standard output.

    For what must not share this process: moto keeps one state per process, and the session's
    embedded endpoint already holds it.
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
