"""The specification's Prometheus metrics, plus upload duration and spool depth.

    voice_ai_minio_uploads_total{status="success"|"error"|"spooled"}
    voice_ai_minio_upload_bytes_sum / voice_ai_minio_upload_bytes_count
    voice_ai_minio_upload_duration_seconds_bucket{status=...}
    voice_ai_minio_spool_items

One :class:`UploadMetrics` per registry (``prometheus_client.REGISTRY`` by default), cached, so
building many uploaders, or importing this module twice, never registers a metric twice.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Final, Literal

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Summary

UploadStatus = Literal["success", "error", "spooled"]
STATUSES: Final[tuple[UploadStatus, ...]] = ("success", "error", "spooled")

UPLOADS: Final = "voice_ai_minio_uploads"  # a Counter: exposed with the _total suffix
UPLOAD_BYTES: Final = "voice_ai_minio_upload_bytes"
UPLOAD_DURATION: Final = "voice_ai_minio_upload_duration_seconds"
SPOOL_ITEMS: Final = "voice_ai_minio_spool_items"

# Uploads run from tens of milliseconds (a transcript) to minutes (an hour of audio, a retry
# storm against a dead server).
DURATION_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class UploadMetrics:
    """The uploader's metrics in one registry; use :func:`upload_metrics` to get the shared one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.uploads = Counter(
            UPLOADS,
            "Recordings and transcripts handed to the uploader, by outcome: success (stored), "
            "spooled (kept on local disk for replay), error (lost to the caller)",
            ["status"],
            registry=registry,
        )
        self.upload_bytes = Summary(
            UPLOAD_BYTES,
            "Size of each recording or transcript stored or spooled (bytes)",
            registry=registry,
        )
        self.duration = Histogram(
            UPLOAD_DURATION,
            "Time from the upload call to its outcome, retries included (seconds)",
            ["status"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.spool_items = Gauge(
            SPOOL_ITEMS,
            "Recordings waiting in the local spool for `voice-recordings replay`",
            registry=registry,
        )
        for status in STATUSES:  # expose zeros, so rate() and alerts work from the first scrape
            self.uploads.labels(status=status)
            self.duration.labels(status=status)

    def observe(self, status: UploadStatus, size: int | None, seconds: float) -> None:
        """Record one upload's outcome, size (None when unknown, e.g. a failed stream) and time."""
        self.uploads.labels(status=status).inc()
        self.duration.labels(status=status).observe(seconds)
        if size is not None and status != "error":
            self.upload_bytes.observe(size)

    def track_spool(self, count: Callable[[], int]) -> None:
        """Make the spool gauge read ``count()`` at every scrape (always current, even when
        another process, such as a cron replay, empties the spool). A spool that cannot be
        read shows NaN (unknown) rather than failing the scrape of every other metric."""

        def current() -> float:
            try:
                return float(count())
            except OSError:
                return math.nan

        self.spool_items.set_function(current)


# The metrics live on the registry object itself, so a second import of this module (a reload,
# two copies on sys.path) finds them instead of registering the same names again.
_ATTRIBUTE: Final = "_voice_recordings_upload_metrics"
_lock = threading.Lock()


def upload_metrics(registry: CollectorRegistry | None = None) -> UploadMetrics:
    """The :class:`UploadMetrics` of ``registry`` (the default registry if None), made once."""
    target = REGISTRY if registry is None else registry
    with _lock:
        metrics: UploadMetrics | None = getattr(target, _ATTRIBUTE, None)
        if metrics is None:
            metrics = UploadMetrics(target)
            setattr(target, _ATTRIBUTE, metrics)
        return metrics
