"""The durable local spool: where a recording waits when the server cannot take it, on disk.
Replaying it is :mod:`voice_recordings.spool.replay`; an entry's format is
:mod:`voice_recordings.spool.entry`, and every file access goes through
:mod:`voice_recordings.spool.entry_files`.

Layout (``MINIO_SPOOL_DIR``, mode 0700)::

    <spool>/20260115T123000123456Z-3f9a0c1b2d4e/   one entry per recording
        body         the bytes, exactly as the caller gave them
        entry.json   key, kind, content type, metadata, tags, size, sha256 (never a secret)
    <spool>/.tmp-*     an entry being written (invisible to replay; swept after ORPHAN_AGE)
    <spool>/.trash-*   an entry verified on the server, being removed

Anything else in the directory (a README, ``lost+found`` at a volume's root, a link) is not an
entry: it is ignored, never counted, never read. Nothing in the spool is followed through a
symbolic link, and only regular files are read. The directory is the owner's alone (0700): one
that others may write to is repaired if it is ours, refused if not.

An entry appears atomically: it is written in a ``.tmp-`` directory (each file fsynced, the JSON
through a temporary file and ``os.replace``) and then renamed into place, so a crash leaves
either nothing or a whole entry. A replayer claims an entry with an ``fcntl`` lock
(:meth:`Spool.claim`: two replayers never upload the same entry at once; a crashed replayer's
lock dies with it), reads it checked against its sha256 (:meth:`Spool.read`), and removes it
(:meth:`Spool.remove`) only after the server reports the same size and checksum.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from voice_recordings.keys import Kind, kind_spec
from voice_recordings.spool.entry import (
    BODY_FILE,
    ENTRY_FILE,
    ENTRY_NAME,
    MAX_ENTRY_JSON,
    TMP_PREFIX,
    TRASH_PREFIX,
    CorruptEntryError,
    SpoolEntry,
)
from voice_recordings.spool.entry_files import (
    fsync_dir,
    list_names,
    newest_mtime,
    open_entry_file,
    open_in_entry,
    remove_tree,
    same_file,
    write_atomically,
)
from voice_recordings.spool.spool_directory import ensure_private_directory
from voice_recordings.turns import waiting

log = logging.getLogger("voice_recordings.spool")

COPY_CHUNK: Final = 1024 * 1024
# A body chunk from this size up is written and hashed as a wait (SpoolWriter.write).
LARGE_WRITE: Final = 64 * 1024
# A .tmp- directory this old is left by a crash: no upload runs that long (MINIO_UPLOAD_DEADLINE
# is at most an hour, and the tee of a stream ends with its upload).
ORPHAN_AGE: Final = 24 * 3600.0


class SpoolWriter:
    """One entry being written: feed it the body, then :meth:`commit` or :meth:`abort`."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.size = 0
        self._sha = hashlib.sha256()
        self.name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:12]}"
        self.tmp_dir = spool.directory / f"{TMP_PREFIX}{self.name}"
        # The disk's waits in one stretch (the directory's checks, a new directory and file,
        # slow while other entries are being fsynced): a handoff's turn is someone else's
        # meanwhile (turns.py).
        with waiting():
            spool.ensure_directory()
            self.tmp_dir.mkdir(mode=0o700)
            self._body: IO[bytes] | None = open(self.tmp_dir / BODY_FILE, "xb")  # noqa: SIM115

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the body."""
        if self._body is None:
            raise ValueError("spool entry already committed or aborted")
        if isinstance(data, memoryview):  # its len() counts items, which may be wider than bytes
            data = data.cast("B") if data.c_contiguous else data.tobytes()
        # Writing and hashing a large chunk is the disk's and hashlib's work, the GIL released:
        # a wait (turns.py). A small one is over sooner than a turn changes hands.
        with waiting() if len(data) >= LARGE_WRITE else contextlib.nullcontext():
            self._body.write(data)
            self._sha.update(data)
        self.size += len(data)

    def copy_from(self, source: IO[bytes]) -> None:
        """Append everything left in ``source``, a chunk at a time (never the whole in memory)."""
        with waiting():  # reading a file and writing the entry: the disk's work
            while chunk := source.read(COPY_CHUNK):
                self.write(chunk)

    def commit(
        self, key: str, kind: Kind, metadata: dict[str, str], reason: str, bucket: str
    ) -> Path:
        """Make the entry durable and visible; return its directory."""
        if self._body is None:
            raise ValueError("spool entry already committed or aborted")
        spec = kind_spec(kind)
        entry = SpoolEntry(
            key=key,
            kind=kind,
            content_type=spec.content_type,
            metadata=dict(metadata),
            tags=spec.tag,
            size=self.size,
            sha256=self._sha.hexdigest(),
            spooled_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
            reason=reason,
            bucket=bucket,
        )
        document = entry.to_json().encode()
        # The disk's waits (four fsyncs) in one stretch: a handoff's turn is someone else's
        # meanwhile, and the thread comes back for it once, not four times (turns.py).
        with waiting():
            return self._make_durable(document)

    def _make_durable(self, document: bytes) -> Path:
        assert self._body is not None
        self._body.flush()
        os.fsync(self._body.fileno())
        self._body.close()
        self._body = None
        write_atomically(self.tmp_dir / ENTRY_FILE, document)
        fsync_dir(self.tmp_dir)
        final = self.spool.directory / self.name
        os.replace(self.tmp_dir, final)
        fsync_dir(self.spool.directory)
        return final

    def abort(self) -> None:
        """Forget the partial entry (the upload succeeded, or the spool write failed)."""
        if self._body is not None:
            self._body.close()
            self._body = None
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


class Spool:
    """A spool directory (created, mode 0700, on first write)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def writer(self) -> SpoolWriter:
        """Start a new entry."""
        return SpoolWriter(self)

    def ensure_directory(self) -> None:
        """Create the directory and its missing parents, each 0700 whatever the umask; then
        trust it only if it is a directory this user owns (a link counts only if this user
        made it): anything else is a SpoolDirectoryError with the fix. Loose permission bits
        on a directory of ours are repaired (0700, with a warning).
        :mod:`voice_recordings.spool.spool_directory` holds the rules."""
        ensure_private_directory(self.directory)

    def entries(self) -> list[Path]:
        """Entry directories, oldest first: only real directories named like an entry (a
        stray file, ``lost+found`` or a link is not one)."""
        found = []
        for name in sorted(list_names(self.directory)):
            if not ENTRY_NAME.fullmatch(name):
                continue
            try:
                mode = os.lstat(self.directory / name).st_mode
            except FileNotFoundError:  # replayed meanwhile
                continue
            if stat.S_ISDIR(mode):
                found.append(self.directory / name)
        return found

    def count(self) -> int:
        """How many entries wait (what the ``voice_ai_minio_spool_items`` gauge shows)."""
        return len(self.entries())

    @contextlib.contextmanager
    def claim(self, entry_dir: Path) -> Iterator[bool]:
        """Lock ``entry_dir`` for this process; yields False if another replayer holds it or it
        is gone (already replayed) or its entry.json is a link or not a regular file. The lock
        is released on exit, or when the process dies."""
        try:
            fd = open_in_entry(entry_dir, ENTRY_FILE)
        except (FileNotFoundError, CorruptEntryError):
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held = False
            else:
                held = same_file(fd, entry_dir / ENTRY_FILE)
            yield held
        finally:
            os.close(fd)  # releases the lock

    def read(self, entry_dir: Path) -> SpoolEntry:
        """The entry's JSON, validated, and its body checked against size and sha256."""
        try:
            with open_entry_file(entry_dir, ENTRY_FILE) as raw:
                text = raw.read(MAX_ENTRY_JSON + 1)
            if len(text) > MAX_ENTRY_JSON:
                raise CorruptEntryError(f"{ENTRY_FILE} is larger than {MAX_ENTRY_JSON} bytes")
            entry = SpoolEntry.from_json(text.decode("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptEntryError(f"{ENTRY_FILE} unreadable: {exc}") from None
        sha, size = hashlib.sha256(), 0
        try:
            with open_entry_file(entry_dir, BODY_FILE) as body:
                while chunk := body.read(COPY_CHUNK):
                    sha.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise CorruptEntryError(f"{BODY_FILE} unreadable: {exc}") from None
        if size != entry.size or sha.hexdigest() != entry.sha256:
            raise CorruptEntryError(
                f"{BODY_FILE} has {size} bytes (sha256 {sha.hexdigest()[:12]}...), "
                f"{ENTRY_FILE} says {entry.size} bytes (sha256 {entry.sha256[:12]}...)"
            )
        return entry

    def remove(self, entry_dir: Path) -> None:
        """Delete an entry: first renamed aside (atomic), then its files."""
        trash = self.directory / f"{TRASH_PREFIX}{entry_dir.name}"
        os.replace(entry_dir, trash)
        fsync_dir(self.directory)
        shutil.rmtree(trash, ignore_errors=True)

    def sweep_trash(self, orphan_age: float = ORPHAN_AGE) -> None:
        """Finish removals that a crashed replayer began (their objects were verified), and
        remove ``.tmp-`` entries a crashed writer left, once older than ``orphan_age`` seconds
        (newer ones may still be being written). Links are removed, never followed."""
        now = time.time()
        for name in list_names(self.directory):
            path = self.directory / name
            if name.startswith(TRASH_PREFIX):
                remove_tree(path)
            elif name.startswith(TMP_PREFIX) and now - newest_mtime(path) > orphan_age:
                log.warning("removing %s: an entry left half-written by a crash", path)
                remove_tree(path)
