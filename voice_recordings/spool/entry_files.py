"""A spool entry's files on disk, touched safely: nothing is followed through a symbolic link,
only regular files are read, only this user's entries are trusted, and what is written is made
durable (fsynced, renamed into place) before it counts.

What each reader and writer of the spool (:mod:`voice_recordings.spool.spool`,
:mod:`voice_recordings.spool.replay`) uses to reach the disk.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import time
from pathlib import Path
from typing import IO, Final

from voice_recordings.spool.entry import CorruptEntryError

# Open a spool file without following a link, and without blocking on a FIFO.
_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

# An entry another user left (or one this user cannot open): never trusted, never removed.
FIX_FOREIGN_ENTRY: Final = (
    "replay as its owner, or chown -R it to this user if its content is known good"
)


class ForeignEntryError(CorruptEntryError):
    """A spool entry (or a file in it) that another user owns: never read, never removed."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    tmp = path.with_name(f"{path.name}.tmp")
    with open(tmp, "xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def fsync_dir(directory: Path) -> None:
    """Make what was created, renamed or removed in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def same_file(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not replaced or removed since it opened)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def list_names(directory: Path) -> list[str]:
    """The names in ``directory``; none when it is missing or not a directory."""
    try:
        return os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []


def open_in_entry(entry_dir: Path, name: str) -> int:
    """A descriptor for ``entry_dir/name``, opened without following a link at either level;
    CorruptEntryError unless both are what the spool writes (a directory, a regular file),
    ForeignEntryError if another user owns either. FileNotFoundError when the entry is gone
    (replayed meanwhile)."""
    try:
        dir_fd = os.open(entry_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except NotADirectoryError:
        raise CorruptEntryError(f"{entry_dir.name} is not a directory (a link?)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptEntryError(f"{entry_dir.name} is a symbolic link") from None
        raise _unreadable(entry_dir, exc) from None
    try:
        _refuse_foreign(entry_dir.name, os.fstat(dir_fd))
        try:
            fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            raise
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise CorruptEntryError(f"{name} is a symbolic link: not read") from None
            raise _unreadable(entry_dir, exc) from None
    finally:
        os.close(dir_fd)
    info = os.fstat(fd)
    try:
        if not stat.S_ISREG(info.st_mode):
            raise CorruptEntryError(f"{name} is not a regular file: not read")
        _refuse_foreign(f"{entry_dir.name}/{name}", info)
    except CorruptEntryError:
        os.close(fd)
        raise
    os.set_blocking(fd, True)
    return fd


def _refuse_foreign(name: str, info: os.stat_result) -> None:
    if info.st_uid != os.geteuid():
        raise ForeignEntryError(
            f"{name} is owned by uid {info.st_uid}, not this user (uid {os.geteuid()}): not "
            f"trusted, kept. Fix: {FIX_FOREIGN_ENTRY}"
        )


def _unreadable(entry_dir: Path, exc: OSError) -> CorruptEntryError:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ForeignEntryError(
            f"{entry_dir.name} cannot be opened by this user ({exc.strerror}): written by "
            f"another user? Kept. Fix: {FIX_FOREIGN_ENTRY}"
        )
    return CorruptEntryError(f"{entry_dir.name} unreadable ({exc.strerror or exc})")


def open_entry_file(entry_dir: Path, name: str) -> IO[bytes]:
    """``entry_dir/name`` opened for reading, only if it is a regular file reached without a
    symbolic link (else CorruptEntryError): replay never reads /dev/zero or a file elsewhere."""
    return os.fdopen(open_in_entry(entry_dir, name), "rb")


def newest_mtime(path: Path) -> float:
    """The latest modification time of ``path`` or a file directly in it (lstat: no links)."""
    try:
        newest = os.lstat(path).st_mtime
        if stat.S_ISDIR(os.lstat(path).st_mode):
            for name in os.listdir(path):
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, os.lstat(path / name).st_mtime)
    except FileNotFoundError:
        return time.time()
    return newest


def remove_tree(path: Path) -> None:
    """Remove a directory tree, or a link or file in its place (never following a link)."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
