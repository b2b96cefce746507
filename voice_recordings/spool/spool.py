"""The durable local spool's on-disk format: where a recording waits when the server cannot
take it. Replaying it is :mod:`voice_recordings.spool.replay`.

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

import base64
import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from voice_recordings.errors import VoiceRecordingsError
from voice_recordings.keys import Kind, kind_spec, parse_key
from voice_recordings.metadata import METADATA_FIELDS, parse_object_metadata
from voice_recordings.spool.spool_directory import ensure_private_directory
from voice_recordings.turns import waiting

log = logging.getLogger("voice_recordings.spool")

ENTRY_FILE: Final = "entry.json"
BODY_FILE: Final = "body"
FORMAT_VERSION: Final = 1
TMP_PREFIX: Final = ".tmp-"
TRASH_PREFIX: Final = ".trash-"
COPY_CHUNK: Final = 1024 * 1024
# A body chunk from this size up is written and hashed as a wait (SpoolWriter.write).
LARGE_WRITE: Final = 64 * 1024
# entry.json is a few hundred bytes; a bigger one is not ours.
MAX_ENTRY_JSON: Final = 64 * 1024
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
# The names SpoolWriter gives entries; nothing else in the directory is one.
ENTRY_NAME: Final = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{12}")
# A .tmp- directory this old is left by a crash: no upload runs that long (MINIO_UPLOAD_DEADLINE
# is at most an hour, and the tee of a stream ends with its upload).
ORPHAN_AGE: Final = 24 * 3600.0
# Open a spool file without following a link, and without blocking on a FIFO.
_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class CorruptEntryError(VoiceRecordingsError):
    """A spool entry whose JSON is unreadable or whose body does not match its size/sha256."""


# An entry another user left (or one this user cannot open): never trusted, never removed.
FIX_FOREIGN_ENTRY: Final = (
    "replay as its owner, or chown -R it to this user if its content is known good"
)


class ForeignEntryError(CorruptEntryError):
    """A spool entry (or a file in it) that another user owns: never read, never removed."""


@dataclass(frozen=True)
class SpoolEntry:
    """What ``entry.json`` records about one spooled object."""

    key: str
    kind: Kind
    content_type: str
    metadata: dict[str, str]
    tags: dict[str, str]
    size: int
    sha256: str
    spooled_at: str
    reason: str
    bucket: str

    @property
    def checksum_b64(self) -> str:
        """The sha256 as S3 writes it (base64 of the digest)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def to_json(self) -> str:
        """The ``entry.json`` text."""
        return json.dumps({"format": FORMAT_VERSION, **self.__dict__}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SpoolEntry:
        """Parse and validate ``entry.json``; anything off raises CorruptEntryError."""
        try:
            raw = json.loads(text)
            if raw.pop("format") != FORMAT_VERSION:
                raise ValueError("unknown format version")
            entry = cls(**raw)
            parsed = parse_key(entry.key)
            if (
                parsed.kind != entry.kind
                or kind_spec(entry.kind).content_type != entry.content_type
            ):
                raise ValueError("kind or content type does not match the key")
            unknown = set(entry.metadata) - set(METADATA_FIELDS)
            if unknown:  # the uploader writes object_metadata's fields and nothing else
                raise ValueError(
                    f"metadata has fields the uploader never writes: {sorted(unknown)}"
                )
            meta = parse_object_metadata(entry.metadata)
            if (meta.company_id, meta.call_uuid) != (parsed.company_id, parsed.call_uuid):
                # Uploaded to the key, it would file one company's (or call's) recording
                # under another's prefix.
                raise ValueError(
                    f"the key says company {parsed.company_id}, call {parsed.call_uuid!r}; the "
                    f"metadata says company {meta.company_id}, call {meta.call_uuid!r}"
                )
            for name in ("spooled_at", "reason", "bucket"):
                if not isinstance(getattr(entry, name), str):
                    raise ValueError(f"{name} must be a string")
            if entry.tags != kind_spec(entry.kind).tag:
                raise ValueError(f"tags must be {kind_spec(entry.kind).tag}")
            if not isinstance(entry.size, int) or entry.size < 0:
                raise ValueError("size must be a whole number of bytes")
            if not isinstance(entry.sha256, str) or not _SHA256_HEX.fullmatch(entry.sha256):
                raise ValueError("sha256 must be 64 lowercase hex digits")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CorruptEntryError(f"{ENTRY_FILE} is invalid: {exc}") from None
        return entry


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
        _write_atomically(self.tmp_dir / ENTRY_FILE, document)
        _fsync_dir(self.tmp_dir)
        final = self.spool.directory / self.name
        os.replace(self.tmp_dir, final)
        _fsync_dir(self.spool.directory)
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

    def add(
        self,
        key: str,
        kind: Kind,
        metadata: dict[str, str],
        body: bytes | bytearray | memoryview | IO[bytes],
        reason: str,
        bucket: str,
    ) -> Path:
        """Spool ``body`` (bytes, or a file object read from its current position) in one go."""
        writer = self.writer()
        try:
            if isinstance(body, bytes | bytearray | memoryview):
                writer.write(body)
            else:
                writer.copy_from(body)
            return writer.commit(key, kind, metadata, reason, bucket)
        except BaseException:
            writer.abort()
            raise

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
        for name in sorted(_listdir(self.directory)):
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
                held = _same_file(fd, entry_dir / ENTRY_FILE)
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
        _fsync_dir(self.directory)
        shutil.rmtree(trash, ignore_errors=True)

    def sweep_trash(self, orphan_age: float = ORPHAN_AGE) -> None:
        """Finish removals that a crashed replayer began (their objects were verified), and
        remove ``.tmp-`` entries a crashed writer left, once older than ``orphan_age`` seconds
        (newer ones may still be being written). Links are removed, never followed."""
        now = time.time()
        for name in _listdir(self.directory):
            path = self.directory / name
            if name.startswith(TRASH_PREFIX):
                _remove(path)
            elif name.startswith(TMP_PREFIX) and now - _newest_mtime(path) > orphan_age:
                log.warning("removing %s: an entry left half-written by a crash", path)
                _remove(path)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    tmp = path.with_name(f"{path.name}.tmp")
    with open(tmp, "xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _listdir(directory: Path) -> list[str]:
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


def _newest_mtime(path: Path) -> float:
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


def _remove(path: Path) -> None:
    """Remove a directory tree, or a link or file in its place (never following a link)."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
