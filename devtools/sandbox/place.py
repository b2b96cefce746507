"""Where the sandbox lives, and that only one runs there.

The directory is outside the clone (Pulumi's writes, the state and every secret of the sandbox
stay there) and private to the user (0700): ``$XDG_RUNTIME_DIR/voice-recordings-sandbox``, else
``<tmp>/voice-recordings-sandbox-<uid>``; ``--dir`` picks another. A running sandbox holds an
exclusive lock on ``<dir>/lock``, which names its process: a second sandbox there says so and
exits. What a sandbox that died left there is removed before a new one starts; what a sandbox
made is removed when it stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, Final

NAME: Final = "voice-recordings-sandbox"
LOCK: Final = "lock"


class SandboxBusy(RuntimeError):
    """Another sandbox runs in the directory (or it is not ours to use); the message says so."""


def default_dir() -> Path:
    """The per-user place: ``$XDG_RUNTIME_DIR/voice-recordings-sandbox``, else the temporary
    directory's ``voice-recordings-sandbox-<uid>``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_absolute() and Path(runtime).is_dir():
        return Path(runtime) / NAME
    return Path(tempfile.gettempdir()) / f"{NAME}-{os.getuid()}"


def _private_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = directory.lstat()
    if stat.S_ISLNK(found.st_mode) or not stat.S_ISDIR(found.st_mode):
        raise SandboxBusy(f"{directory} is not a directory: choose another with --dir")
    if found.st_uid != os.getuid():
        raise SandboxBusy(f"{directory} belongs to another user: choose another with --dir")
    directory.chmod(0o700)


def write_private(path: Path, text: str) -> None:
    """``text`` into ``path``, created 0600 (the sandbox's secrets: nobody else reads them)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


class Place:
    """The sandbox's directory, held (:meth:`acquire`) while the sandbox runs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.absolute()
        self._lock: IO[str] | None = None

    def acquire(self) -> None:
        """Make the directory, lock it (:class:`SandboxBusy` if another sandbox holds it) and
        clear what a dead sandbox left."""
        _private_dir(self.directory)
        lock = (self.directory / LOCK).open("a+", encoding="utf-8")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            raise SandboxBusy(
                f"a sandbox is already running in {self.directory} (pid {holder}): use it "
                f"(in another shell: . {self.directory / 'env.sh'}) or stop it with Ctrl-C "
                f"in its terminal; another one elsewhere: --dir DIR"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock
        self._clear()

    def _clear(self) -> None:
        for entry in self.directory.iterdir():
            if entry.name == LOCK:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)  # links inside (to the clone) are removed, not followed
            else:
                entry.unlink()

    def release(self) -> None:
        """Remove everything the sandbox made, then the lock; safe to call twice."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        self._clear()
        with contextlib.suppress(OSError):
            (self.directory / LOCK).unlink()
            self.directory.rmdir()
        lock.close()
