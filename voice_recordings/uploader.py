"""The uploader the Voice AI service calls at the end of every call.

Names follow the specification (``get_minio_uploader``, ``is_available``, ``upload_audio``) so its
test snippet runs with only the import line changed.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlencode

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.diagnostics import diagnose
from voice_recordings.errors import InvalidInputError, StorageError
from voice_recordings.keys import TRANSCRIPT, VOICE, Kind, kind_spec, object_key
from voice_recordings.metadata import object_metadata
from voice_recordings.settings import StorageSettings
from voice_recordings.urls import presign_endpoint, presigned_get_url, public_url

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3 import S3Client

log = logging.getLogger("voice_recordings")

Body = bytes | bytearray | memoryview | IO[bytes]
Progress = Callable[[int], None]

# Above this a file object goes multipart; parts this size bound the memory an upload holds.
MULTIPART_CHUNK = 8 * 1024 * 1024
CHECKSUM_ALGORITHM = "SHA256"


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


def transfer_config() -> TransferConfig:
    """Multipart settings: 8 MiB parts, few in flight, so memory stays bounded for any size."""
    config = TransferConfig(
        multipart_threshold=MULTIPART_CHUNK,
        multipart_chunksize=MULTIPART_CHUNK,
        max_concurrency=4,
    )
    config.max_in_memory_upload_chunks = 4
    return config


class MinioUploader:
    """Stores recordings and transcripts under the key layout, with metadata, tag and checksum."""

    def __init__(self, settings: StorageSettings, client: S3Client | None = None) -> None:
        self.settings = settings
        self.client = client or _make_client(settings)
        self._presign_client: S3Client | None = None
        self._transfer_config = transfer_config()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MinioUploader:
        """An uploader configured from the MINIO_* variables (raises ConfigError if invalid)."""
        return cls(StorageSettings.from_env(env))

    @property
    def is_available(self) -> bool:
        """True when the bucket answers with these credentials (one HEAD request, not cached)."""
        try:
            self.client.head_bucket(Bucket=self.settings.bucket)
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
        body = transcript.encode("utf-8") if isinstance(transcript, str) else transcript
        return self.upload(
            TRANSCRIPT, body, call_uuid, company_id, domain_uuid, secretary_uuid, when, progress
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
        body: Body,
        call_uuid: str,
        company_id: int | str,
        domain_uuid: str | None = None,
        secretary_uuid: str | None = None,
        when: dt.datetime | None = None,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Validate everything first (nothing malformed reaches the server), then store."""
        now = dt.datetime.now(dt.UTC)
        key = object_key(kind, company_id, call_uuid, when or now)
        metadata = object_metadata(call_uuid, company_id, domain_uuid, secretary_uuid, now)
        size, version_id = self.put(kind, key, body, metadata, progress)
        log.info("stored %s (%d bytes)", key, size)
        return UploadResult(self.url_for(key), key=key, kind=kind, size=size, version_id=version_id)

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
        tagging = urlencode(spec.tag)
        try:
            if isinstance(body, bytes | bytearray | memoryview):
                data = bytes(body)
                response = self.client.put_object(
                    Bucket=self.settings.bucket,
                    Key=key,
                    Body=data,
                    ContentType=spec.content_type,
                    Metadata=metadata,
                    Tagging=tagging,
                    ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
                )
                if progress:
                    progress(len(data))
                return len(data), response.get("VersionId")
            if not hasattr(body, "read"):
                raise InvalidInputError(
                    f"audio/transcript body must be bytes or a binary file object, got "
                    f"{type(body).__name__}"
                )
            counter = _Counter(progress)
            self.client.upload_fileobj(
                body,
                self.settings.bucket,
                key,
                ExtraArgs={
                    "ContentType": spec.content_type,
                    "Metadata": metadata,
                    "Tagging": tagging,
                    "ChecksumAlgorithm": CHECKSUM_ALGORITHM,
                },
                Callback=counter,
                Config=self._transfer_config,
            )
            return counter.total, None
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"upload of {key} failed: {diagnose(exc)}") from exc

    def close(self) -> None:
        """Release the HTTP connections."""
        self.client.close()
        if self._presign_client is not None and self._presign_client is not self.client:
            self._presign_client.close()


class _Counter:
    """Counts the bytes s3transfer reports (it calls back from several threads)."""

    def __init__(self, progress: Progress | None) -> None:
        import threading

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
