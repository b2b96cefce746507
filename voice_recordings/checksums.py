"""The checksums objects are sent with, in one place: which, and how each is computed and named.

Uploads carry :data:`UPLOAD_CHECKSUM` (CRC32), the spool's replay carries :data:`REPLAY_CHECKSUM`
(SHA-256). One header per request, computed in one pass over the bytes; the server verifies it
and echoes it, and :mod:`voice_recordings.answers` demands that echo.

Why CRC32 for uploads: the checksum's job is to catch bytes corrupted between the caller's
buffer and the server's disk (TLS already refuses bytes changed in transit, and authenticates the
server); CRC32 detects every burst error up to 32 bits and any other corruption but for a chance
of 2^-32, at a third of SHA-256's cost (0.19 against 0.52 ms per MiB here; the server pays as
much again to verify it). It is the AWS SDKs' default integrity check (botocore's
``DEFAULT_CHECKSUM_ALGORITHM``). What it cannot be is a proof of identity: two bodies with the
same CRC32 are easy to make. So replay, which may *skip* an upload when the server already holds
an object, keeps SHA-256 (the spool's own digest, :mod:`voice_recordings.spool.replay`).

Facts this relies on, read in the sources:

- MinIO verifies a ``x-amz-checksum-crc32`` header on PutObject and UploadPart whose length is
  known, as ours always is (``cmd/object-handlers.go`` ``PutObjectHandler``, ``cmd/
  object-multipart-handlers.go`` ``PutObjectPartHandler``: ``hashReader.AddChecksum(r, ...)``,
  which for a part of unknown length only passes the value on; ``internal/hash/reader.go``:
  ``Read`` hashes as the body arrives, with ``crc32.NewIEEE()`` from ``internal/hash/
  checksum.go`` ``Hasher``, and at EOF compares it with the header's base64-decoded bytes:
  ``ChecksumMismatch``, answered ``XAmzContentChecksumMismatch`` (HTTP 400, ``cmd/
  api-errors.go``). It refuses a request with two ``x-amz-checksum-*`` headers
  (``getContentChecksum``: "If already set, invalid").
- MinIO echoes it in the PUT's answer: ``hash.TransferChecksumHeader(w, r)`` sets the verified
  header's value on the response, for a PUT and for a part alike; botocore parses it into
  ``ChecksumCRC32`` (``botocore/data/s3/2006-03-01/service-2.json``: ``PutObjectOutput`` and
  ``UploadPartOutput`` map ``ChecksumCRC32`` to the ``x-amz-checksum-crc32`` header).
- The encoding: base64 of the 4 big-endian bytes of the IEEE CRC32 (botocore
  ``httpchecksum.py`` ``Crc32Checksum.digest``: ``to_bytes(4, byteorder="big")``; Go's
  ``hash/crc32`` ``Sum`` appends big-endian too). :class:`Crc32` writes the same, and
  ``tests/unit/test_checksums.py`` checks it against botocore's own class.
- A caller-given ``ChecksumCRC32`` is sent as that header, verbatim, and botocore then computes
  nothing itself (``httpchecksum.py`` ``resolve_request_checksum_algorithm``: "If the header is
  already set by the customer, skip calculation", by ``utils.has_checksum_header``; and
  ``_apply_request_header_checksum`` skips a header already there).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

_READ_CHUNK: Final = 1024 * 1024


class Digest(Protocol):
    """What a running checksum offers (hashlib's shape)."""

    def update(self, data: bytes | bytearray, /) -> None: ...
    def digest(self) -> bytes: ...


class Crc32:
    """zlib's IEEE CRC32 with hashlib's shape; ``digest`` is its 4 big-endian bytes, as S3 and
    botocore write it."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes | bytearray, /) -> None:
        """Add ``data`` (zlib releases the GIL for large buffers)."""
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        """The 4 big-endian bytes."""
        return self._value.to_bytes(4, "big")


@dataclass(frozen=True)
class ChecksumAlgorithm:
    """One S3 checksum: its ``ChecksumAlgorithm`` value, header, answer field and digest."""

    name: str  # botocore's ChecksumAlgorithm value ("CRC32")
    header: str  # the request and answer header ("x-amz-checksum-crc32")
    field: str  # the parsed answer's member ("ChecksumCRC32"), also HeadObject's
    label: str  # for messages ("CRC32")
    new: Callable[[], Digest]

    @property
    def botocore_name(self) -> str:
        """The name botocore's checksum context uses ("crc32")."""
        return self.name.lower()

    def b64(self, data: bytes | bytearray) -> str:
        """The base64 checksum of ``data``, as S3 writes it."""
        digest = self.new()
        digest.update(data)
        return base64.b64encode(digest.digest()).decode()

    def of_body(self, body: Any) -> str | None:
        """The base64 checksum of a request body: bytes, or a seekable file read in 1 MiB
        chunks from where it stands and rewound there; None for anything else."""
        if isinstance(body, bytes | bytearray):
            return self.b64(body)
        if not (hasattr(body, "read") and hasattr(body, "seek") and hasattr(body, "tell")):
            return None
        return self.of_rest(body)[0]

    def of_rest(self, file: Any) -> tuple[str, int]:
        """The base64 checksum of what is left of a seekable ``file``, read in 1 MiB chunks,
        and how many bytes that was; the file ends where it started."""
        digest, start, done = self.new(), file.tell(), 0
        while chunk := file.read(_READ_CHUNK):
            digest.update(chunk)
            done += len(chunk)
        file.seek(start)
        return base64.b64encode(digest.digest()).decode(), done


CRC32: Final = ChecksumAlgorithm("CRC32", "x-amz-checksum-crc32", "ChecksumCRC32", "CRC32", Crc32)
SHA256: Final = ChecksumAlgorithm(
    "SHA256", "x-amz-checksum-sha256", "ChecksumSHA256", "SHA-256", hashlib.sha256
)
# The one choice for the upload path (single PUTs and multipart parts): see the module docstring.
UPLOAD_CHECKSUM: Final = CRC32
# Replay sends the spool's own SHA-256 (entry.json), so the server then holds a digest that can
# prove, on a later run, that the object is already there (voice_recordings.spool.replay).
REPLAY_CHECKSUM: Final = SHA256
BY_HEADER: Final[dict[str, ChecksumAlgorithm]] = {a.header: a for a in (CRC32, SHA256)}
