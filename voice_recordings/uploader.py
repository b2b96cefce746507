"""The uploader the Voice AI service calls at the end of every call.

Names follow the specification (``get_minio_uploader``, ``is_available``, ``upload_audio``) so its
test snippet runs with only the import line changed.

A recording is never lost to a storage outage: when the server stays unreachable or refuses
(after botocore's retries, configured in :mod:`voice_recordings.client`), the bytes go to the
local spool (:mod:`voice_recordings.spool`) and the upload still returns the URL the recording
will have, with ``spooled=True``; :meth:`MinioUploader.replay_spool` or ``voice-recordings
replay`` uploads it later (:mod:`voice_recordings.spool.replay`).

The upload path, top-down: :meth:`MinioUploader.upload_audio` / ``upload_transcript`` (their
keywords: :mod:`voice_recordings.upload_call`) -> :meth:`MinioUploader.upload` (validate, pick the
body's source from :mod:`voice_recordings.bodies`) -> :meth:`MinioUploader._put_in_time` (the
deadline) -> :meth:`MinioUploader._send` (the source sends itself, in one PUT or multipart:
:mod:`voice_recordings.transfer`) -> on failure :meth:`MinioUploader._spool`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Unpack

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.answers import install as install_answer_checks
from voice_recordings.bodies import Body, BodySource, Progress, body_source, normalise_body
from voice_recordings.deadline import UploadDeadlineExceeded
from voice_recordings.deadline import install as install_deadlines
from voice_recordings.diagnostics import Diagnosis, diagnose
from voice_recordings.errors import ConfigError, InvalidInputError, StorageError
from voice_recordings.handoff import shared_pool
from voice_recordings.keys import TRANSCRIPT, VOICE, Kind, kind_spec, object_key
from voice_recordings.metadata import object_metadata
from voice_recordings.metrics import UploadMetrics, UploadStatus, upload_metrics
from voice_recordings.settings import StorageSettings
from voice_recordings.spool.replay import ReplayReport, replay_spool
from voice_recordings.spool.spool import Spool
from voice_recordings.transfer import (
    Destination,
    abort_in_background,
    track_multipart_uploads,
    transfer_config,
)
from voice_recordings.turns import install as install_turns
from voice_recordings.upload_call import UploadOptions, UploadResult, takes_upload_options
from voice_recordings.urls import presign_endpoint, presigned_get_url, public_url

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3 import S3Client

log = logging.getLogger("voice_recordings")


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
        self.metrics.upload_deadline.set(settings.upload_deadline)
        self.spool = Spool(settings.spool_dir) if settings.spool_dir else None
        if self.spool is not None:
            self.metrics.track_spool(self.spool.count)
        self._presign_client: S3Client | None = None
        self._presign_lock = threading.Lock()
        if settings.url_mode == "presigned" and client is None:
            # Built now, at start-up, not by the first handoffs of a burst, which would wait
            # for it (a client takes a few hundred milliseconds on a busy machine).
            self._presign_client = self._presigner()
        self._transfer_config = transfer_config()
        self._deadlines = install_deadlines(self.client)
        self._started = track_multipart_uploads(self.client)
        install_turns(self.client)
        self._handoffs = shared_pool()
        install_answer_checks(self.client)

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

    # -- uploads ----------------------------------------------------------------------------

    @takes_upload_options
    def upload_audio(self, audio_data: Body, **options: Unpack[UploadOptions]) -> UploadResult:
        """Store a call's audio (MP3) and return its URL (the ids are keywords:
        :class:`~voice_recordings.upload_call.UploadOptions`)."""
        return self.upload(VOICE, audio_data, **options)

    @takes_upload_options
    def upload_transcript(
        self, transcript: str | Body, **options: Unpack[UploadOptions]
    ) -> UploadResult:
        """Store a call's transcript (text, UTF-8) and return its URL (ids keyword-only)."""
        return self.upload(TRANSCRIPT, transcript, **options)

    @takes_upload_options
    async def upload_audio_async(
        self, audio_data: Body, **options: Unpack[UploadOptions]
    ) -> UploadResult:
        """:meth:`upload_audio` in one of the uploader's own threads (never the loop's default
        executor), so the event loop keeps running; ``MINIO_UPLOAD_DEADLINE`` counts from this
        call, however many handoffs are in flight (:mod:`voice_recordings.handoff`)."""
        return await self._handoff(VOICE, audio_data, options)

    @takes_upload_options
    async def upload_transcript_async(
        self, transcript: str | Body, **options: Unpack[UploadOptions]
    ) -> UploadResult:
        """:meth:`upload_transcript` in one of the uploader's own threads (never the loop's default
        executor), so the event loop keeps running; ``MINIO_UPLOAD_DEADLINE`` counts from this
        call, however many handoffs are in flight (:mod:`voice_recordings.handoff`)."""
        return await self._handoff(TRANSCRIPT, transcript, options)

    async def _handoff(self, kind: Kind, body: Body | str, options: UploadOptions) -> UploadResult:
        upload = functools.partial(self.upload, kind, body, since=time.monotonic(), **options)
        return await self._handoffs.run(upload)

    @takes_upload_options
    def upload(
        self,
        kind: Kind,
        body: Body | str,
        *,
        since: float | None = None,
        **options: Unpack[UploadOptions],
    ) -> UploadResult:
        """Validate everything first (nothing malformed reaches the server), then store within
        ``MINIO_UPLOAD_DEADLINE`` of ``since`` (a ``time.monotonic()`` reading, default now);
        if the server cannot take it by then, spool it (see the module docstring). A transcript
        may be given as ``str`` (sent as UTF-8)."""
        now = dt.datetime.now(dt.UTC)
        call_uuid, company_id = options["call_uuid"], options["company_id"]
        key = object_key(kind, company_id, call_uuid, options.get("when") or now)
        metadata = object_metadata(
            call_uuid, company_id, options.get("domain_uuid"), options.get("secretary_uuid"), now
        )
        data = normalise_body(kind, body)
        started = time.monotonic() if since is None else since
        status: UploadStatus = "error"
        size: int | None = None
        source = body_source(data, self.spool)
        to = self._destination(kind, key, metadata)
        try:
            outcome = self._put_in_time(to, source, options.get("progress"), started)
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
            self.metrics.observe(status, size, time.monotonic() - started)

    def _put_in_time(
        self, to: Destination, source: BodySource, progress: Progress | None, since: float
    ) -> tuple[int, str | None] | StorageError:
        """:meth:`_send` within ``MINIO_UPLOAD_DEADLINE`` of ``since``: (size, version id), or
        the failure (an UploadDeadlineExceeded once the deadline has cut the upload short). A
        multipart upload started by a put that failed is aborted afterwards, in a thread of its
        own: the deadline refuses the abort while it holds, and the caller must not wait."""
        bucket, key = to.bucket, to.key
        try:
            outcome = self._put_bound(to, source, progress, since)
        except BaseException:
            abort_in_background(self.client, bucket, key, self._started.take(bucket, key))
            raise
        started = self._started.take(bucket, key)
        if isinstance(outcome, StorageError):
            abort_in_background(self.client, bucket, key, started)
        return outcome

    def _put_bound(
        self, to: Destination, source: BodySource, progress: Progress | None, since: float
    ) -> tuple[int, str | None] | StorageError:
        key = to.key
        with self._deadlines.bound(
            to.bucket, key, self.settings.upload_deadline, since
        ) as deadline:
            if deadline.remaining() <= 0:  # it waited its whole deadline for a thread
                return UploadDeadlineExceeded(f"{deadline.message()} (no request sent)", key=key)
            try:
                sent = self._send(to, source, progress)
            except UploadDeadlineExceeded as exc:
                exc.key = exc.key or key  # raised deep in the transport, which knows no key
                return exc
            except StorageError as exc:
                if not deadline.expired:
                    return exc
                failure = UploadDeadlineExceeded(f"{deadline.message()}: {exc}", key=key)
                failure.__cause__ = exc.__cause__ or exc
                return failure
            except Exception as exc:
                # After the deadline, a half-read answer can surface as anything (s3transfer
                # raises KeyError for a CreateMultipartUpload "answer" without an UploadId).
                if not deadline.expired:
                    raise
                failure = UploadDeadlineExceeded(
                    f"{deadline.message()} ({type(exc).__name__})", key=key
                )
                failure.__cause__ = exc
                return failure
            if deadline.expired:
                # A connection shut down mid-answer can read as a complete one (http.client
                # takes the end of the stream for the end of the headers): after the deadline no
                # answer is trusted. The object may be stored after all; replay then finds it.
                return UploadDeadlineExceeded(
                    f"{deadline.message()}: the server's answer came too late to be trusted",
                    key=key,
                )
            return sent

    def put(
        self,
        kind: Kind,
        key: str,
        body: Body,
        metadata: dict[str, str],
        progress: Progress | None = None,
    ) -> tuple[int, str | None]:
        """Send one object; return (bytes sent, version id). Raises StorageError with the fix."""
        source = body_source(body, None)
        try:
            return self._send(self._destination(kind, key, metadata), source, progress)
        finally:
            source.close()

    def _destination(self, kind: Kind, key: str, metadata: dict[str, str]) -> Destination:
        spec, config = kind_spec(kind), self._transfer_config
        return Destination(self.client, self.settings.bucket, key, spec, metadata, config)

    def _send(
        self, to: Destination, source: BodySource, progress: Progress | None
    ) -> tuple[int, str | None]:
        """``source`` sent as it decides (:meth:`BodySource.send`); StorageError with the fix."""
        key = to.key
        try:
            return source.send(to, progress)
        except (StorageError, InvalidInputError):
            raise
        except Exception as exc:
            # Whatever botocore, s3transfer or a parser raised (s3transfer's KeyError for an
            # answer without an UploadId, a ValueError from a malformed header): the object is
            # not proven stored, so it is a failed attempt and the recording is spooled.
            diagnosis = diagnose(exc)
            raise diagnosis.error(f"upload of {key} failed: {diagnosis}", key) from exc

    def _spool(
        self,
        source: BodySource,
        failure: StorageError,
        kind: Kind,
        key: str,
        metadata: dict[str, str],
    ) -> int:
        """Write the body to the spool after ``failure``; log one line with the fix."""
        assert self.spool is not None
        if isinstance(failure, UploadDeadlineExceeded):
            assert failure.category is not None and failure.fix is not None
            diagnosis = Diagnosis(failure.category, str(failure), failure.fix, failure.transient)
        else:
            diagnosis = diagnose(failure.__cause__ or failure)
        try:
            writer = source.recover()
            size = writer.size
            entry_dir = writer.commit(key, kind, metadata, diagnosis.category, self.settings.bucket)
        except Exception as spool_exc:  # whatever it was, the caller must hear both failures
            log.error(
                "%s NOT stored and NOT spooled: %s; the spool at %s failed (%s: %s)",
                key,
                diagnosis,
                self.spool.directory,
                type(spool_exc).__name__,
                spool_exc,
            )
            spool_error = f"{type(spool_exc).__name__}: {spool_exc}"
            raise diagnosis.error(
                f"{failure}; the spool at {self.spool.directory} also failed ({spool_error})",
                key,
                spool_error,
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
        """Upload what the spool holds to this uploader's server and bucket (see
        :func:`voice_recordings.spool.replay.replay_spool`), recording the run in this uploader's
        metrics; ConfigError when the spool is off."""
        if self.spool is None:
            raise ConfigError("the spool is disabled (MINIO_SPOOL_DIR=off): nothing to replay")
        try:
            report = replay_spool(self.client, self.settings.bucket, self.spool, progress=progress)
        except Exception:  # the run could not report (an unusable spool): a failed run
            self.metrics.observe_replay(None)
            raise
        self.metrics.observe_replay(report)
        return report

    # -- URLs -------------------------------------------------------------------------------

    def public_url(self, key: str) -> str:
        """``{MINIO_PUBLIC_URL}/{bucket}/{key}``."""
        return public_url(self.settings, key)

    def presigned_url(self, key: str, expires_in: int | None = None) -> str:
        """A presigned GET URL signed for the public host (default expiry from settings)."""
        expiry = self.settings.presign_expires if expires_in is None else expires_in
        return presigned_get_url(self._presigner(), self.settings.bucket, key, expiry)

    def _presigner(self) -> S3Client:
        """The client that signs URLs for the public host (built once, whatever the threads)."""
        with self._presign_lock:
            if self._presign_client is None:
                endpoint = presign_endpoint(self.settings)
                self._presign_client = (
                    self.client
                    if endpoint == self.settings.endpoint_url
                    else _make_client(self.settings, endpoint)
                )
            return self._presign_client

    def url_for(self, key: str) -> str:
        """The URL the uploader hands out, by ``MINIO_URL_MODE`` (presigned by default)."""
        if self.settings.url_mode == "public":
            return self.public_url(key)
        return self.presigned_url(key)

    def close(self) -> None:
        """Release the HTTP connections (the handoff threads are the process's, kept)."""
        self.client.close()
        if self._presign_client is not None and self._presign_client is not self.client:
            self._presign_client.close()


def _make_client(settings: StorageSettings, endpoint_url: str | None = None) -> S3Client:
    from voice_recordings.client import make_s3_client

    return make_s3_client(settings, endpoint_url)


def get_minio_uploader(env: Mapping[str, str] | None = None) -> MinioUploader:
    """The uploader for this process's environment (the specification's entry point).

    Raises ConfigError (``MINIO_ACCESS_KEY or MINIO_SECRET_KEY not configured`` ...) when the
    settings are missing or malformed: better at start-up than at the end of a call.
    """
    return MinioUploader.from_env(env)
