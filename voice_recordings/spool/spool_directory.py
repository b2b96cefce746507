"""The spool directory itself: when this user may trust it, made private, or only looked at.

One set of rules for the two ways in: the uploader and replay make the directory (0700, with
every missing parent) and repair its mode (:func:`ensure_private_directory`); ``voice-recordings
check`` only reads, and says what the first spooled recording would find
(:func:`spool_readiness`): a check changes nothing on the local disk, not even a mode or a
directory it would create.

A directory is trusted when it is a directory this user owns (a link to one counts only if this
user made the link), and no parent could be changed by another user (owned by someone other
than this user or root, or writable by anyone without the sticky bit that ``/tmp`` has: the rule
OpenSSH applies to ``~/.ssh``).
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from voice_recordings.private_dirs import PRIVATE_MODE, make_private_dirs

log = logging.getLogger("voice_recordings.spool")

# What to do about a spool directory that cannot be used.
SPOOL_FIX: Final = (
    "set MINIO_SPOOL_DIR to a writable directory of this user's on a local disk (mode 0700), "
    "or MINIO_SPOOL_DIR=off"
)
# A spool another user owns (or a link another user made): never used as it is.
FIX_FOREIGN_SPOOL: Final = (
    f"run as the spool's owner (`docker exec -u <user> ...`), or chown it to this user, or "
    f"{SPOOL_FIX}"
)


class SpoolDirectoryError(PermissionError):
    """The spool directory cannot be used safely (not a directory, or others may write to it)."""


@dataclass(frozen=True)
class Readiness:
    """What the first spooled recording would find: the directory there (or the existing
    directory it would be made in, ``parent``), and its mode when others may use it (0: none)."""

    exists: bool
    parent: Path
    open_mode: int


def ensure_private_directory(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700 whatever the umask; then trust it
    or raise SpoolDirectoryError with the fix. Loose permission bits on a directory of ours are
    repaired (0700, with a warning)."""
    try:
        make_private_dirs(directory)
    except OSError as exc:
        raise _unusable(directory, "cannot be created or read", exc) from None
    mode = _trusted_mode(directory)
    if mode & 0o077:
        os.chmod(directory, PRIVATE_MODE)
        log.warning("spool %s was open to others (mode %o): made it 0700", directory, mode)


def spool_readiness(directory: Path) -> Readiness:
    """Whether :func:`ensure_private_directory` and a write would succeed, found by reading
    only: SpoolDirectoryError when they would not (with the fix), else what they would find.
    Nothing is created, repaired or written."""
    if not os.path.lexists(directory):
        parent = _nearest_existing(directory)
        if not parent.is_dir():
            raise SpoolDirectoryError(
                f"spool {directory} cannot be created: {parent} is not a directory. "
                f"Fix: {SPOOL_FIX}"
            )
        _refuse_steerable(directory, Path(os.path.realpath(parent)), os.geteuid())
        _require_writable(directory, parent)
        return Readiness(exists=False, parent=parent, open_mode=0)
    mode = _trusted_mode(directory)
    _require_writable(directory, directory)
    return Readiness(exists=True, parent=directory.parent, open_mode=mode if mode & 0o077 else 0)


def _trusted_mode(directory: Path) -> int:
    """The permission bits of ``directory``, once it is trusted (see the module's docstring);
    SpoolDirectoryError naming what is wrong otherwise."""
    try:
        link = os.lstat(directory)
        info = os.stat(directory)
    except OSError as exc:
        raise _unusable(directory, "cannot be read", exc) from None
    if not stat.S_ISDIR(info.st_mode):
        raise SpoolDirectoryError(f"spool {directory} is not a directory. Fix: {SPOOL_FIX}")
    me = os.geteuid()
    owners = [("is owned by", info.st_uid)]
    if stat.S_ISLNK(link.st_mode):
        owners.insert(0, ("is a link made by", link.st_uid))
    for what, owner in owners:
        if owner != me:
            # Another user could then plant, swap or read recordings: never used.
            raise SpoolDirectoryError(
                f"spool {directory} {what} uid {owner}, not this user (uid {me}): "
                f"another user could steer what it holds. Fix: {FIX_FOREIGN_SPOOL}"
            )
    _refuse_steerable(directory, Path(os.path.realpath(directory)).parent, me)
    return stat.S_IMODE(info.st_mode)


def _refuse_steerable(directory: Path, start: Path, me: int) -> None:
    """SpoolDirectoryError if another user could rename or replace ``directory`` through
    ``start`` (an existing directory, resolved) or any directory above it."""
    for parent in (start, *start.parents):
        info = os.stat(parent)
        owner_ok = info.st_uid in (0, me)
        open_to_all = bool(info.st_mode & stat.S_IWOTH) and not info.st_mode & stat.S_ISVTX
        if not owner_ok or open_to_all:
            why = f"owned by uid {info.st_uid}" if not owner_ok else "writable by anyone"
            raise SpoolDirectoryError(
                f"spool {directory}: its parent {parent} is {why}, so another user could "
                f"replace the spool. Fix: {SPOOL_FIX}"
            )


def _require_writable(directory: Path, where: Path) -> None:
    """SpoolDirectoryError unless this user may create entries in ``where`` (``access(2)`` with
    the effective ids: a read-only file system answers no too), without writing there."""
    effective = os.access in os.supports_effective_ids
    if not os.access(where, os.W_OK | os.X_OK, effective_ids=effective):
        what = "is" if where == directory else f"cannot be created: {where} is"
        raise SpoolDirectoryError(
            f"spool {directory} {what} not writable by this user (or on a read-only file "
            f"system). Fix: {SPOOL_FIX}"
        )


def _nearest_existing(directory: Path) -> Path:
    path = directory
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def _unusable(directory: Path, what: str, exc: OSError) -> SpoolDirectoryError:
    return SpoolDirectoryError(
        f"spool {directory} {what} ({exc.strerror or exc}). Fix: {SPOOL_FIX}"
    )
