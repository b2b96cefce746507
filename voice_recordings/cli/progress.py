"""``voice-recordings upload``'s progress line: bytes sent so far, in a unit a person reads.

A size is written in the unit of the whole (``512 bytes of 512 bytes``, ``0.3 MiB of 4.0
MiB``), so a small body never reads ``0.0 MiB of 0.0 MiB`` and both figures of one line compare
at a glance.
"""

from __future__ import annotations

import threading
import time
from typing import IO, Final

# Largest first; below the smallest, a size is counted in bytes.
UNITS: Final[tuple[tuple[str, int], ...]] = (
    ("GiB", 1024**3),
    ("MiB", 1024**2),
    ("KiB", 1024),
)


def unit_for(size: int) -> tuple[str, int]:
    """The unit ``size`` reads best in: the largest in which it shows as at least ``1.0``
    (``("bytes", 1)`` below a KiB)."""
    for name, scale in UNITS:
        if round(size / scale, 1) >= 1.0:
            return name, scale
    return "bytes", 1


def size_text(size: int, unit: tuple[str, int] | None = None) -> str:
    """``size`` bytes as ``1 byte``, ``512 bytes``, ``1.5 KiB``, ``4.0 MiB`` (in ``unit``, or
    the one it reads best in)."""
    name, scale = unit or unit_for(size)
    if scale == 1:
        return f"{size} {'byte' if size == 1 else 'bytes'}"
    return f"{size / scale:.1f} {name}"


def progress_text(done: int, total: int | None) -> str:
    """``done`` of ``total`` bytes in the total's unit, with the percentage (only ``done`` when
    the total is unknown, a pipe's, or zero)."""
    if not total:
        return size_text(done)
    unit = unit_for(total)
    return f"{size_text(done, unit)} of {size_text(total, unit)} ({100 * done // total}%)"


class ProgressPrinter:
    """Bytes sent so far, on ``stream``, at most twice a second (a line each 5 s when not a
    tty); the uploader calls it with each chunk's size, from its transfer threads."""

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
        line = f"{self.label}: {progress_text(self.done, self.total)}"
        self.stream.write(f"\r{line}" if self._tty else f"{line}\n")
        self.stream.flush()
