"""The uploader the Voice AI service calls at the end of every call.

Names follow the specification (``get_minio_uploader``, ``is_available``, ``upload_audio``) so its
test snippet runs with only the import line changed.

A recording is never lost to a storage outage: when the server stays unreachable or refuses
(after botocore's retries, configured in :mod:`voice_recordings.client`), the bytes go to the
local spool (:mod:`voice_recordings.spool`) and the upload still returns the URL the recording
will have, with ``spooled=True``; :meth:`MinioUploader.replay_spool` or ``voice-recordings
replay`` uploads it later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.deadline import UploadDeadlineExceeded
from voice_recordings.deadline import install as install_deadlines
from voice_recordings.diagnostics import FIX_UNREACHABLE, Diagnosis, diagnose
from voice_recordings.errors import InvalidInputError, StorageError
from voice_recordings.keys import TRANSCRIPT, VOICE, Kind, kind_spec, object_key
from voice_recordings.metadata import object_metadata
from voice_recordings.metrics import UploadMetrics, UploadStatus, upload_metrics
from voice_recordings.settings import StorageSettings
from voice_recordings.spool import ReplayReport, Spool, SpoolWriter, replay_spool
from voice_recordings.transfer import (
    MULTIPART_CHUNK,
    put_multipart,
    put_single,
    sha256_b64,
    transfer_config,
)
from voice_recordings.urls import presign_endpoint, presigned_get_url, public_url

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3 import S3Client

log = logging.getLogger("voice_recordings")

Body = bytes | bytearray | memoryview | IO[bytes]
Progress = Callable[[int], None]


class UploadResult(str):
    """The URL the object is reachable at (it *is* that string), plus what happened.

    ``key`` is where it went, ``spooled`` is True when the server was unavailable and the
    object waits in the local spool (the URL is still right: keys are deterministic).
    """

    key: str
    kind: Kind
    size: int
    spooled: bool
    version_id: str | None

    def __new__(
        cls,
        url: str,
        *,
        key: str,
        kind: Kind,
        size: int,
        spooled: bool = False,
        version_id: str | None = None,
    ) -> UploadResult:
        result = super().__new__(cls, url)
        result.key, result.kind, result.size = key, kind, size
        result.spooled, result.version_id = spooled, version_id
        return result

    @property
    def url(self) -> str:
        """The URL as a plain ``str``."""
        return str.__str__(self)


class MinioUploader:
    """Stores recordings and transcripts under the key layout, with metadata, tag and checksum."""

    def __init__(
        self,
        settings: StorageSettings,
        client: S3Client | None = None,
        metrics: UploadMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or _make_client(settings)
        self.metrics = metrics or upload_metrics()
        self.spool = Spool(settings.spool_dir) if settings.spool_dir else None
        if self.spool is not None:
            self.metrics.track_spool(self.spool.count)
        self._presign_client: S3Client | None = None
        self._transfer_config = transfer_config()
        self._deadlines = install_deadlines(self.client)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MinioUploader:
        """An uploader configured from the MINIO_* variables (raises ConfigError if invalid)."""
        return cls(StorageSettings.from_env(env))

    @property
    def is_available(self) -> bool:
        """True when the bucket answers with these credentials (one request, not cached)."""
        try:
            # A one-key listing (s3:ListBucket, like HEAD bucket) rather than a HEAD: a HEAD
            # answer has no body, so a wrong secret would be logged as "Access Denied".
            self.client.list_objects_v2(Bucket=self.settings.bucket, MaxKeys=1)
        except (ClientError, BotoCoreError, OSError) as exc:
            log.warning("MinIO not available: %s", diagnose(exc))
            return False
        return True

    # -- URLs -------------------------------------------------------------------------------

    def public_url(self, key: str) -> str:
        """``{MINIO_PUBLIC_URL}/{bucket}/{key}``."""
        return public_url(self.settings, key)

    def presigned_url(self, key: str, expires_in: int | None = None) -> str:
        """A presigned GET URL signed for the public host (default expiry from settings)."""
        if self._presign_client is None:
            endpoint = presign_endpoint(self.settings)
            self._presign_client = (
                self.client
                if endpoint == self.settings.endpoint_url
                else _make_client(self.settings, endpoint)
            )
        expiry = self.settings.presign_expires if expires_in is None else expires_in
        return presigned_get_url(self._presign_client, self.settings.bucket, key, expiry)

    def url_for(self, key: str) -> str:
        """The URL the uploader hands out, by ``MINIO_URL_MODE`` (presigned by default)."""
        if self.settings.url_mode == "public":
            return self.public_url(key)
        return self.presigned_url(key)

    # -- uploads ----------------------------------------------------------------------------

    def upload_audio(
        self,
        audio_data: Body,
        call_uuid: str,
        company_id: int | str,
        domain_uuid: str | None = None,
        secretary_uuid: str | None = None,
        when: dt.datetime | None = None,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Store a call's audio (MP3) and return its URL."""
        return self.upload(
            VOICE, audio_data, call_uuid, company_id, domain_uuid, secretary_uuid, when, progress
        )

    def upload_transcript(
        self,
        transcript: str | Body,
        call_uuid: str,
        company_id: int | str,
        domain_uuid: str | None = None,
        secretary_uuid: str | None = None,
        when: dt.datetime | None = None,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Store a call's transcript (text, UTF-8) and return its URL."""
        return self.upload(
            TRANSCRIPT,
            transcript,
            call_uuid,
            company_id,
            domain_uuid,
            secretary_uuid,
            when,
            progress,
        )

    async def upload_audio_async(self, *args: Any, **kwargs: Any) -> UploadResult:
        """:meth:`upload_audio` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.upload_audio, *args, **kwargs)

    async def upload_transcript_async(self, *args: Any, **kwargs: Any) -> UploadResult:
        """:meth:`upload_transcript` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.upload_transcript, *args, **kwargs)

    def upload(
        self,
        kind: Kind,
        body: Body | str,
        call_uuid: str,
        company_id: int | str,
        domain_uuid: str | None = None,
        secretary_uuid: str | None = None,
        when: dt.datetime | None = None,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Validate everything first (nothing malformed reaches the server), then store within
        ``MINIO_UPLOAD_DEADLINE``; if the server cannot take it by then, spool it (see the
        module docstring). A transcript may be given as ``str`` (sent as UTF-8)."""
        now = dt.datetime.now(dt.UTC)
        key = object_key(kind, company_id, call_uuid, when or now)
        metadata = object_metadata(call_uuid, company_id, domain_uuid, secretary_uuid, now)
        data = _normalise_body(kind, body)
        started = time.perf_counter()
        status: UploadStatus = "error"
        size: int | None = None
        source = _Source(data, self.spool)
        try:
            outcome = self._put_in_time(kind, key, source.body, metadata, progress)
            if isinstance(outcome, StorageError):
                if self.spool is None:
                    raise outcome
                size = self._spool(source, outcome, kind, key, metadata)
                status = "spooled"
                return UploadResult(self.url_for(key), key=key, kind=kind, size=size, spooled=True)
            size, version_id = outcome
            status = "success"
            log.info("stored %s (%d bytes)", key, size)
            return UploadResult(
                self.url_for(key), key=key, kind=kind, size=size, version_id=version_id
            )
        finally:
            source.close()
            self.metrics.observe(status, size, time.perf_counter() - started)

    def _put_in_time(
        self,
        kind: Kind,
        key: str,
        body: Body,
        metadata: dict[str, str],
        progress: Progress | None,
    ) -> tuple[int, str | None] | StorageError:
        """:meth:`put` within ``MINIO_UPLOAD_DEADLINE``: (size, version id), or the failure
        (an UploadDeadlineExceeded once the deadline has cut the upload short)."""
        with self._deadlines.bound(
            self.settings.bucket, key, self.settings.upload_deadline
        ) as deadline:
            try:
                sent = self.put(kind, key, body, metadata, progress)
            except UploadDeadlineExceeded as exc:
                return exc
            except StorageError as exc:
                if not deadline.expired:
                    return exc
                failure = UploadDeadlineExceeded(f"{deadline.message()}: {exc}")
                failure.__cause__ = exc.__cause__ or exc
                return failure
            except Exception as exc:
                # After the deadline, a half-read answer can surface as anything (s3transfer
                # raises KeyError for a CreateMultipartUpload "answer" without an UploadId).
                if not deadline.expired:
                    raise
                failure = UploadDeadlineExceeded(f"{deadline.message()} ({type(exc).__name__})")
                failure.__cause__ = exc
                return failure
            if deadline.expired:
                # A connection shut down mid-answer can read as a complete one (http.client
                # takes the end of the stream for the end of the headers): after the deadline no
                # answer is trusted. The object may be stored after all; replay then finds it.
                return UploadDeadlineExceeded(
                    f"{deadline.message()}: the server's answer came too late to be trusted"
                )
            return sent

    def _spool(
        self,
        source: _Source,
        failure: StorageError,
        kind: Kind,
        key: str,
        metadata: dict[str, str],
    ) -> int:
        """Write the body to the spool after ``failure``; log one line with the fix."""
        assert self.spool is not None
        if isinstance(failure, UploadDeadlineExceeded):
            diagnosis = Diagnosis("deadline", str(failure), FIX_UNREACHABLE, transient=True)
        else:
            diagnosis = diagnose(failure.__cause__ or failure)
        try:
            writer = source.recover()
            size = writer.size
            entry_dir = writer.commit(key, kind, metadata, diagnosis.category, self.settings.bucket)
        except (OSError, ValueError) as spool_exc:
            log.error(
                "%s NOT stored and NOT spooled: %s; the spool at %s failed (%s: %s)",
                key,
                diagnosis,
                self.spool.directory,
                type(spool_exc).__name__,
                spool_exc,
            )
            raise StorageError(
                f"{failure}; the spool at {self.spool.directory} also failed "
                f"({type(spool_exc).__name__}: {spool_exc})"
            ) from failure
        # One line, with the fix; a non-transient failure (wrong keys, access denied) is not
        # retried in a loop: it needs a person, then `voice-recordings replay`.
        log.log(
            logging.WARNING if diagnosis.transient else logging.ERROR,
            "%s not stored (%s), spooled %d bytes to %s for replay. Fix: %s",
            key,
            diagnosis.summary,
            size,
            entry_dir,
            diagnosis.fix,
        )
        return size

    def replay_spool(self, progress: Callable[[str], None] | None = None) -> ReplayReport:
        """Upload what the spool holds to this uploader's server (see :func:`replay_spool`)."""
        return replay_spool(self, progress=progress)

    def put(
        self,
        kind: Kind,
        key: str,
        body: Body,
        metadata: dict[str, str],
        progress: Progress | None = None,
    ) -> tuple[int, str | None]:
        """Send one object; return (bytes sent, version id). Raises StorageError with the fix."""
        spec = kind_spec(kind)
        bucket = self.settings.bucket
        try:
            small = None if isinstance(body, bytes | bytearray | memoryview) else _small(body)
            if small is not None:
                body = small
            if isinstance(body, bytes | bytearray | memoryview):
                data = bytes(body)
                version_id = put_single(
                    self.client, bucket, key, data, spec, metadata, sha256_b64(data)
                )
                if progress:
                    progress(len(data))
                return len(data), version_id
            _check_body(body)
            counter = _Counter(progress)
            put_multipart(
                self.client, bucket, key, body, spec, metadata, self._transfer_config, counter
            )
            return counter.total, None
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"upload of {key} failed: {diagnose(exc)}") from exc

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
        if self._presign_client is not None and self._presign_client is not self.client:
            self._presign_client.close()


def _normalise_body(kind: Kind, body: object) -> bytes | IO[bytes]:
    """The body as the upload sends it: bytes-like objects become ``bytes`` (a memoryview of
    wide items counts bytes, not items), a transcript's ``str`` becomes UTF-8, a binary file
    object stays as it is; anything else is refused with the fix."""
    if isinstance(body, str) and kind == TRANSCRIPT:
        try:
            return str.encode(body, "utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInputError(
                f"transcript must be valid Unicode text: {exc.reason} at position {exc.start} "
                f"(a lone surrogate, e.g. from decoding with errors='surrogateescape'); decode "
                f"the source with errors='replace' or pass the raw bytes"
            ) from None
    _check_body(body)
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return body  # type: ignore[return-value]


def _check_body(body: object) -> None:
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


def _small(body: IO[bytes]) -> bytes | None:
    """The rest of a seekable ``body`` if it fits one multipart part (at most
    :data:`MULTIPART_CHUNK`, so memory stays bounded), to send in one PUT as bytes are; else
    None, the position unchanged. Why: s3transfer's path costs a 1 MB file about a third more
    than one PUT (a thread pool per call, a chunked body with a trailing checksum)."""
    if not _seekable(body):
        return None
    start = body.tell()
    end = body.seek(0, io.SEEK_END)
    body.seek(start)
    if end - start > MULTIPART_CHUNK:
        return None
    parts, remaining = [], end - start
    while remaining > 0:
        part = body.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _seekable(body: IO[bytes]) -> bool:
    try:
        if not body.seekable():
            return False
        body.tell()
    except (AttributeError, OSError, ValueError):
        return False
    return True


class _Tee:
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
        data = self._source.read(size)
        if self.error is None:
            try:
                self._writer.write(data)
            except OSError as exc:
                self.error = exc
                self._writer.abort()
        return data


class _KeepOpen:
    """A seekable file as s3transfer sees it, minus ``close``: s3transfer closes the body of a
    single-PUT upload, which would close the caller's file (theirs to close) and leave nothing to
    spool from if the PUT failed."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source

    def read(self, size: int = -1) -> bytes:
        return self._source.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._source.seek(offset, whence)

    def tell(self) -> int:
        return self._source.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Leave the caller's file open."""


class _Source:
    """The body of one upload, and how to get all of it back for the spool after a failure:
    bytes are in memory, a seekable file is rewound, a non-seekable one is teed as it is read.

    Nothing here may fail the upload itself: a spool that cannot be written is remembered and
    reported by :meth:`recover`, only when the upload failed too.
    """

    def __init__(self, body: bytes | IO[bytes], spool: Spool | None) -> None:
        self._original = body
        self._spool = spool
        self._writer: SpoolWriter | None = None
        self._tee: _Tee | None = None
        self._spool_error: OSError | None = None
        self._start: int | None = None
        self.body: Body = body
        if isinstance(body, bytes):
            return
        if _seekable(body):
            self._start = body.tell()
            self.body = _KeepOpen(body)  # type: ignore[assignment]
        elif spool is not None:
            try:
                self._writer = spool.writer()
            except OSError as exc:
                self._spool_error = exc
                return
            self._tee = _Tee(body, self._writer)
            self.body = self._tee  # type: ignore[assignment]

    def recover(self) -> SpoolWriter:
        """A spool entry holding the whole body (to be committed by the caller); raises the
        spool's OSError if it could not be written."""
        error = self._spool_error or (self._tee.error if self._tee is not None else None)
        if error is not None:
            raise error
        body = self._original
        if isinstance(body, bytes):
            writer = self._spool_writer()
            writer.write(body)
            return writer
        if self._writer is not None:  # teed so far: add what s3transfer did not read
            self._writer.copy_from(body)
            return self._writer
        writer = self._spool_writer()
        body.seek(self._start or 0)
        writer.copy_from(body)
        return writer

    def _spool_writer(self) -> SpoolWriter:
        assert self._spool is not None
        self._writer = self._spool.writer()
        return self._writer

    def close(self) -> None:
        """Drop an uncommitted spool entry (the upload succeeded, or spooling failed)."""
        if self._writer is not None:
            self._writer.abort()


class _Counter:
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


def _make_client(settings: StorageSettings, endpoint_url: str | None = None) -> S3Client:
    from voice_recordings.client import make_s3_client

    return make_s3_client(settings, endpoint_url)


def get_minio_uploader(env: Mapping[str, str] | None = None) -> MinioUploader:
    """The uploader for this process's environment (the specification's entry point).

    Raises ConfigError (``MINIO_ACCESS_KEY or MINIO_SECRET_KEY not configured`` ...) when the
    settings are missing or malformed: better at start-up than at the end of a call.
    """
    return MinioUploader.from_env(env)
