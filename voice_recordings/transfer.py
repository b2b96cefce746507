"""The two ways an object is sent, in one place: the uploader and the spool's replay share them.

Every object carries its kind's content type and tag, its metadata and a checksum the server
verifies: the upload path's CRC32, replay's SHA-256 (:mod:`voice_recordings.checksums`, the
choice and why). A single PUT carries the full-object checksum; a multipart upload (for file
objects above :data:`SINGLE_PUT_LIMIT`, and streams) checksums each part, with bounded memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, cast
from urllib.parse import urlencode

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.checksums import UPLOAD_CHECKSUM, ChecksumAlgorithm
from voice_recordings.keys import KindSpec

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)
_TRACKER: Final = "_voice_recordings_started_uploads"

# The part size of a multipart upload: parts this size bound the memory an upload holds.
MULTIPART_CHUNK: Final = 8 * 1024 * 1024
# Above this a seekable file goes multipart; up to it, one PUT streamed from the file (no more
# memory than a part). Measured (docs/runtime.md, "Performance"): one PUT beat multipart at every
# size up to 100 MB, so the limit bounds what a failed attempt resends whole, while an hour-long
# call (128 kbit/s MP3: 58 MB) still goes in one request.
SINGLE_PUT_LIMIT: Final = 64 * 1024 * 1024


def transfer_config() -> TransferConfig:
    """Multipart settings: 8 MiB parts, few in flight, so memory stays bounded for any size."""
    config = TransferConfig(
        multipart_threshold=MULTIPART_CHUNK,
        multipart_chunksize=MULTIPART_CHUNK,
        max_concurrency=3,
    )
    config.max_in_memory_upload_chunks = 3
    return config


def _object_args(
    spec: KindSpec, metadata: dict[str, str], algorithm: ChecksumAlgorithm
) -> dict[str, Any]:
    return {
        "ContentType": spec.content_type,
        "Metadata": metadata,
        "Tagging": urlencode(spec.tag),
        # The algorithm too: botocore then computes that checksum (and only it) when none is
        # given, and the server keeps it (replay compares it).
        "ChecksumAlgorithm": algorithm.name,
    }


class SeekableBody(Protocol):
    """What botocore needs of a streamed body: read it, measure and rewind it (seek, tell)."""

    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


def put_single(
    client: S3Client,
    bucket: str,
    key: str,
    body: bytes | IO[bytes] | SeekableBody,
    spec: KindSpec,
    metadata: dict[str, str],
    checksum_b64: str | None,
    algorithm: ChecksumAlgorithm = UPLOAD_CHECKSUM,
    condition: dict[str, str] | None = None,
) -> str | None:
    """One PUT carrying the full-object checksum of ``algorithm`` (the server refuses bytes that
    do not match); returns the version id. Without ``checksum_b64`` it is computed on the way,
    as boto3 does (:mod:`voice_recordings.answers` puts it in a header). ``condition``:
    ``{"IfNoneMatch": "*"}`` or ``{"IfMatch": etag}``, the server refuses the PUT (412) unless
    the key's current object is still what the caller saw."""
    args = _object_args(spec, metadata, algorithm) | (condition or {})
    if checksum_b64 is not None:
        args[algorithm.field] = checksum_b64
    response = client.put_object(
        Bucket=bucket,
        Key=key,
        Body=cast("IO[bytes]", body),  # the stubs know only files; botocore reads any such body
        **args,
    )
    return response.get("VersionId")


def put_multipart(
    client: S3Client,
    bucket: str,
    key: str,
    body: Any,
    spec: KindSpec,
    metadata: dict[str, str],
    config: TransferConfig,
    callback: Callable[[int], None] | None = None,
    algorithm: ChecksumAlgorithm = UPLOAD_CHECKSUM,
) -> None:
    """Stream ``body`` (a file object) through boto3's transfer manager, each part carrying its
    checksum of ``algorithm``."""
    client.upload_fileobj(
        body,
        bucket,
        key,
        ExtraArgs=_object_args(spec, metadata, algorithm),
        Callback=callback,
        Config=config,
    )


@dataclass(frozen=True)
class Destination:
    """Where one upload's object goes, with what it carries: a body source
    (:mod:`voice_recordings.bodies`) sends itself there in one PUT or in parts."""

    client: S3Client
    bucket: str
    key: str
    spec: KindSpec
    metadata: dict[str, str]
    config: TransferConfig

    def put(self, body: bytes | SeekableBody, checksum_b64: str | None) -> str | None:
        """:func:`put_single` of ``body``; returns the version id."""
        return put_single(
            self.client, self.bucket, self.key, body, self.spec, self.metadata, checksum_b64
        )

    def put_in_parts(self, body: Any, callback: Callable[[int], None]) -> None:
        """:func:`put_multipart` of ``body`` (a file object), ``callback`` told each part's
        bytes."""
        put_multipart(
            self.client,
            self.bucket,
            self.key,
            body,
            self.spec,
            self.metadata,
            self.config,
            callback,
        )


class StartedUploads:
    """The multipart uploads a client started, by ``(bucket, key)``, until the caller takes
    them: an upload cut short (by the deadline, whose hooks also refuse s3transfer's own
    abort) leaves its parts on the server until someone aborts it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], list[str]] = {}

    def created(self, parsed: dict[str, Any], **_: Any) -> None:
        """``after-call`` of CreateMultipartUpload: remember the upload id S3 gave."""
        bucket, key, upload_id = parsed.get("Bucket"), parsed.get("Key"), parsed.get("UploadId")
        if bucket and key and upload_id:
            with self._lock:
                self._by_key.setdefault((str(bucket), str(key)), []).append(str(upload_id))

    def take(self, bucket: str, key: str) -> list[str]:
        """The ids started for ``key`` since the last take (forgotten here)."""
        with self._lock:
            return self._by_key.pop((bucket, key), [])


def track_multipart_uploads(client: S3Client) -> StartedUploads:
    """The :class:`StartedUploads` of ``client`` (hooked on once per client)."""
    tracker: StartedUploads | None = getattr(client, _TRACKER, None)
    if tracker is None:
        tracker = StartedUploads()
        client.meta.events.register("after-call.s3.CreateMultipartUpload", tracker.created)
        setattr(client, _TRACKER, tracker)
    return tracker


def abort_in_background(
    client: S3Client, bucket: str, key: str, upload_ids: list[str]
) -> threading.Thread | None:
    """Abort ``upload_ids`` of ``key`` in a thread of its own, off the caller's clock (the
    caller has already spooled the recording); an upload already completed or aborted answers
    NoSuchUpload, which is fine. Returns the thread (None when there is nothing to abort)."""
    if not upload_ids:
        return None
    thread = threading.Thread(
        target=_abort_all,
        args=(client, bucket, key, list(upload_ids)),
        name="voice-recordings-abort-multipart",
        daemon=True,
    )
    thread.start()
    return thread


def _abort_all(client: S3Client, bucket: str, key: str, upload_ids: list[str]) -> None:
    for upload_id in upload_ids:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                continue  # s3transfer's own cleanup (or the completion) got there first
            _left(key, upload_id, exc)
        except BotoCoreError as exc:
            _left(key, upload_id, exc)


def _left(key: str, upload_id: str, exc: Exception) -> None:
    logger.warning(
        "multipart upload %s of %s could not be aborted (%s); its parts stay on the server "
        "until MinIO removes stale uploads (24 h by default) or `mc rm --incomplete` does",
        upload_id,
        key,
        exc,
    )
