"""How an upload sends its body, decided by the body (as s3transfer's input managers decide).

Three sources, each knowing how it is sent (one PUT or multipart) and how to get all of itself
back for the spool after a failed upload:

- :class:`BytesSource`: bytes are in memory, sent in one PUT and spooled as they are.
- :class:`SeekableSource`: a seekable file up to :data:`SINGLE_PUT_LIMIT` is streamed in one PUT
  (:func:`single_put_body`), a larger one multipart through :class:`KeepOpen` (the caller's file
  stays open); it is rewound to where it started for the spool.
- :class:`StreamSource`: a non-seekable stream goes multipart and is read once, so every byte is
  teed to a spool entry as it is read (:class:`Tee`); the spool gets the copy plus what was not
  read.

:func:`body_source` checks what a caller passed and picks the source; :func:`normalise_body`
turns a transcript's ``str`` into UTF-8 first.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import IO, Protocol, cast

from voice_recordings.checksums import UPLOAD_CHECKSUM
from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import TRANSCRIPT, Kind
from voice_recordings.spool.spool import Spool, SpoolWriter
from voice_recordings.transfer import SINGLE_PUT_LIMIT, Destination, SeekableBody
from voice_recordings.turns import waiting

Body = bytes | bytearray | memoryview | IO[bytes]
Progress = Callable[[int], None]


def normalise_body(kind: Kind, body: object) -> object:
    """A transcript's ``str`` as UTF-8 bytes; any other body as it is (:func:`body_source`
    checks it)."""
    if isinstance(body, str) and kind == TRANSCRIPT:
        try:
            return str.encode(body, "utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInputError(
                f"transcript must be valid Unicode text: {exc.reason} at position {exc.start} "
                f"(a lone surrogate, e.g. from decoding with errors='surrogateescape'); decode "
                f"the source with errors='replace' or pass the raw bytes"
            ) from None
    return body


def check_body(body: object) -> None:
    """InvalidInputError unless ``body`` is bytes-like or a binary file object."""
    if not isinstance(body, bytes | bytearray | memoryview) and not hasattr(body, "read"):
        raise InvalidInputError(
            f"audio/transcript body must be bytes or a binary file object, got "
            f"{type(body).__name__}"
        )
    if isinstance(body, io.TextIOBase):
        raise InvalidInputError(
            f"audio/transcript body must be a binary file object, got a text stream "
            f"({type(body).__name__}): open the file with 'rb', or pass a transcript as str"
        )


def single_put_body(body: IO[bytes]) -> FileSlice | None:
    """The rest of a seekable ``body`` as a :class:`FileSlice` to stream in one PUT, if it is at
    most :data:`SINGLE_PUT_LIMIT`; else None (multipart), the position unchanged.

    Why one PUT: s3transfer's path costs a file far more than one request (a thread pool per
    call, a chunked body with a trailing checksum, a request per part: a 10 MB file took about
    a fifth longer than minio-py's two parts). The slice is streamed, never read whole into
    memory, so a large file costs no more RAM than a small one."""
    if not seekable(body):
        return None
    start = body.tell()
    end = body.seek(0, io.SEEK_END)
    body.seek(start)
    if end - start > SINGLE_PUT_LIMIT:
        return None
    # A FileSlice never closes the file either: it reads the caller's file itself, rather than
    # through KeepOpen (a Python call fewer for each of the hundreds of reads a PUT makes).
    return FileSlice(body, start, end - start)


class FileSlice:
    """``length`` bytes of a seekable file from ``start``, as botocore sends a body: a file of
    its own whose position 0 is ``start`` (botocore rewinds a body to 0 before a retry, and
    measures its length by seeking to the end), never closed (the caller's file is theirs).

    :meth:`checksum_b64` reads it once for the checksum the PUT carries and the server verifies
    (the upload path's, :data:`~voice_recordings.checksums.UPLOAD_CHECKSUM`); the bytes then read
    for sending are cut to exactly the bytes hashed."""

    def __init__(self, source: IO[bytes], start: int, length: int) -> None:
        self._source, self._start, self.length = source, start, length
        self._pos = 0

    def checksum_b64(self) -> str:
        """The base64 upload checksum (CRC32) of the slice, read in 1 MiB chunks; ends rewound.
        A file shorter than announced shrinks the slice to what was read (so Content-Length
        stays true)."""
        self.seek(0)
        checksum, self.length = UPLOAD_CHECKSUM.of_rest(self)
        return checksum

    def read(self, size: int | None = -1) -> bytes:
        """At most ``size`` bytes (all that is left if negative), never past the slice's end."""
        left = self.length - self._pos
        want = left if size is None or size < 0 else min(size, left)
        if want <= 0:
            return b""
        data = self._source.read(want)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek within the slice (positions relative to its start)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.length}[whence]
        self._pos = min(max(0, base + offset), self.length)
        self._source.seek(self._start + self._pos)
        return self._pos

    def tell(self) -> int:
        """The position within the slice."""
        return self._pos

    def seekable(self) -> bool:
        """Always."""
        return True

    def readable(self) -> bool:
        """Always."""
        return True

    def close(self) -> None:
        """Leave the caller's file open."""


def seekable(body: IO[bytes]) -> bool:
    """True when ``body`` can really seek and tell (a pipe may claim to and then fail)."""
    try:
        if not body.seekable():
            return False
        body.tell()
    except (AttributeError, OSError, ValueError):
        return False
    return True


class BodySource(Protocol):
    """The body of one upload: how it is sent, and how to get all of it back for the spool
    after a failure.

    Nothing here may fail the upload itself: a spool that cannot be written is remembered and
    reported by :meth:`recover`, only when the upload failed too.
    """

    body: Body

    def send(self, to: Destination, progress: Progress | None) -> tuple[int, str | None]:
        """Send the body to ``to`` in one PUT or multipart, as the body decides; return (bytes
        sent, version id: None for a multipart upload)."""
        ...

    def recover(self) -> SpoolWriter:
        """A spool entry holding the whole body (to be committed by the caller); raises the
        spool's OSError if it could not be written."""
        ...

    def close(self) -> None:
        """Drop an uncommitted spool entry (the upload succeeded, or spooling failed)."""
        ...


def body_source(body: object, spool: Spool | None) -> BodySource:
    """The source for ``body``, by its type: bytes-like objects are sent as ``bytes`` (a
    memoryview of wide items counts bytes, not items), a binary file object as a seekable file
    or a stream; anything else is an InvalidInputError with the fix (:func:`check_body`)."""
    check_body(body)
    if isinstance(body, bytes | bytearray | memoryview):
        return BytesSource(bytes(body), spool)
    file = cast("IO[bytes]", body)  # a binary file object: check_body saw to it
    if seekable(file):
        return SeekableSource(file, spool)
    return StreamSource(file, spool)


def _send_in_parts(to: Destination, body: Body, progress: Progress | None) -> tuple[int, None]:
    counter = ByteCounter(progress)
    with waiting():  # s3transfer's threads do the work; this one waits for them
        to.put_in_parts(body, counter)
    return counter.total, None


class _SpooledSource:
    """What the three sources share: the spool entry being written, dropped on close."""

    def __init__(self, spool: Spool | None) -> None:
        self._spool = spool
        self._writer: SpoolWriter | None = None

    def _new_writer(self) -> SpoolWriter:
        assert self._spool is not None
        self._writer = self._spool.writer()
        return self._writer

    def close(self) -> None:
        """Drop an uncommitted spool entry (the upload succeeded, or spooling failed)."""
        if self._writer is not None:
            self._writer.abort()


def _put_once(
    to: Destination,
    body: bytes | SeekableBody,
    checksum: str | None,
    size: int,
    progress: Progress | None,
) -> tuple[int, str | None]:
    """One PUT of the whole body; ``progress`` is told its ``size`` once it is sent."""
    version_id = to.put(body, checksum)
    if progress:
        progress(size)
    return size, version_id


class BytesSource(_SpooledSource):
    """Bytes in memory: sent as they are, spooled as they are."""

    def __init__(self, data: bytes, spool: Spool | None) -> None:
        super().__init__(spool)
        self._data = data
        self.body: Body = data

    def send(self, to: Destination, progress: Progress | None) -> tuple[int, str | None]:
        """One PUT. Its checksum is computed on the request's way out (answers.py's before-call
        hook), exactly where boto3 doing the same work computes it; hashing first thing in the
        call measured about a tenth slower at 10 MB in the benchmark."""
        return _put_once(to, self._data, None, len(self._data), progress)

    def recover(self) -> SpoolWriter:
        """A spool entry holding the bytes."""
        writer = self._new_writer()
        writer.write(self._data)
        return writer


class SeekableSource(_SpooledSource):
    """A seekable file: sent from its current position, rewound there for the spool."""

    def __init__(self, file: IO[bytes], spool: Spool | None) -> None:
        super().__init__(spool)
        self._file = file
        self._start = file.tell()
        self.body: Body = KeepOpen(file)  # type: ignore[assignment]

    def send(self, to: Destination, progress: Progress | None) -> tuple[int, str | None]:
        """One PUT streamed from the file, with its checksum, up to :data:`SINGLE_PUT_LIMIT`;
        multipart above it."""
        whole = single_put_body(self._file)
        if whole is None:
            return _send_in_parts(to, self.body, progress)
        return _put_once(to, whole, whole.checksum_b64(), whole.length, progress)

    def recover(self) -> SpoolWriter:
        """A spool entry holding the file from where the upload started."""
        writer = self._new_writer()
        self._file.seek(self._start)
        writer.copy_from(self._file)
        return writer


class StreamSource(_SpooledSource):
    """A non-seekable stream: teed to a spool entry as it is read (when there is a spool)."""

    def __init__(self, stream: IO[bytes], spool: Spool | None) -> None:
        super().__init__(spool)
        self._stream = stream
        self._tee: Tee | None = None
        self._spool_error: OSError | None = None
        self.body: Body = stream
        if spool is None:
            return
        try:
            writer = self._new_writer()
        except OSError as exc:
            self._spool_error = exc
            return
        self._tee = Tee(stream, writer)
        self.body = self._tee  # type: ignore[assignment]

    def send(self, to: Destination, progress: Progress | None) -> tuple[int, str | None]:
        """Multipart: a stream's length is not known until it ends."""
        return _send_in_parts(to, self.body, progress)

    def recover(self) -> SpoolWriter:
        """The teed entry completed with what the upload did not read."""
        error = self._spool_error or (self._tee.error if self._tee is not None else None)
        if error is not None:
            raise error
        writer = self._writer if self._writer is not None else self._new_writer()
        writer.copy_from(self._stream)
        return writer


class Tee:
    """A non-seekable stream as s3transfer reads it, every byte also copied to a spool entry,
    so a failed upload can still spool the whole recording (the consumed part cannot be read
    again). Exposes only ``read``: s3transfer then treats it as the non-seekable stream it is.

    A spool that fails (disk full, not a directory) costs the fallback, never the upload: the
    copy stops, the error is kept for the report if the upload fails too, and reading goes on.
    """

    def __init__(self, source: IO[bytes], writer: SpoolWriter) -> None:
        self._source, self._writer = source, writer
        self.error: OSError | None = None

    def read(self, size: int = -1) -> bytes:
        """Read from the source, copying what was read to the spool entry."""
        data = self._source.read(size)
        if self.error is None:
            try:
                self._writer.write(data)
            except OSError as exc:
                self.error = exc
                self._writer.abort()
        return data


class KeepOpen:
    """A seekable file as s3transfer sees it, minus ``close``: s3transfer closes the body of a
    single-PUT upload, which would close the caller's file (theirs to close) and leave nothing to
    spool from if the PUT failed."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source

    def read(self, size: int = -1) -> bytes:
        """Read from the caller's file."""
        return self.source.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Seek in the caller's file."""
        return self.source.seek(offset, whence)

    def tell(self) -> int:
        """The caller's file's position."""
        return self.source.tell()

    def seekable(self) -> bool:
        """Always: only seekable files are wrapped."""
        return True

    def readable(self) -> bool:
        """Always."""
        return True

    def close(self) -> None:
        """Leave the caller's file open."""


class ByteCounter:
    """Counts the bytes s3transfer reports (it calls back from several threads)."""

    def __init__(self, progress: Progress | None) -> None:
        self.total = 0
        self._lock = threading.Lock()
        self._progress = progress

    def __call__(self, sent: int) -> None:
        with self._lock:
            self.total += sent
        if self._progress:
            self._progress(sent)
