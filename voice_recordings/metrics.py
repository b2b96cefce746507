"""The specification's Prometheus metrics, plus upload duration, spool depth, the deadline and
replay's outcomes.

    voice_ai_minio_uploads_total{status="success"|"error"|"spooled"}
    voice_ai_minio_upload_bytes_sum / voice_ai_minio_upload_bytes_count
    voice_ai_minio_upload_duration_seconds_bucket{status=...}
    voice_ai_minio_spool_items
    voice_ai_minio_upload_deadline_seconds
    voice_ai_minio_replay_entries_total{outcome=...}
    voice_ai_minio_replay_runs_total{result=...}
    voice_ai_minio_replay_last_run_timestamp_seconds

The alert rules and the dashboard under ``monitoring/`` query these names (a test holds them to
what this module registers).

One :class:`UploadMetrics` per registry (``prometheus_client.REGISTRY`` by default), cached, so
building many uploaders, or importing this module twice, never registers a metric twice.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Literal

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, Summary

if TYPE_CHECKING:
    from voice_recordings.spool.replay import ReplayReport

UploadStatus = Literal["success", "error", "spooled"]
STATUSES: Final[tuple[UploadStatus, ...]] = ("success", "error", "spooled")

UPLOADS: Final = "voice_ai_minio_uploads"  # a Counter: exposed with the _total suffix
UPLOAD_BYTES: Final = "voice_ai_minio_upload_bytes"
UPLOAD_DURATION: Final = "voice_ai_minio_upload_duration_seconds"
SPOOL_ITEMS: Final = "voice_ai_minio_spool_items"
UPLOAD_DEADLINE: Final = "voice_ai_minio_upload_deadline_seconds"
REPLAY_ENTRIES: Final = "voice_ai_minio_replay_entries"  # a Counter: _total
REPLAY_RUNS: Final = "voice_ai_minio_replay_runs"  # a Counter: _total
REPLAY_LAST_RUN: Final = "voice_ai_minio_replay_last_run_timestamp_seconds"

# What replay did with each entry: the names of ReplayReport's lists, so the label and the report
# say the same word (a test holds them equal). Busy entries (another replayer holds them) are
# that replayer's to count.
ReplayOutcome = Literal["uploaded", "already_stored", "erased", "corrupt", "foreign", "failed"]
REPLAY_OUTCOMES: Final[tuple[ReplayOutcome, ...]] = (
    "uploaded",
    "already_stored",
    "erased",
    "corrupt",
    "foreign",
    "failed",
)
# How a replay run ended: ok (the spool is empty), kept (entries remain: corrupt, foreign,
# failed or busy), stopped (a server-wide failure: down, wrong keys, denied), error (the run
# could not start: the spool is unusable).
ReplayResult = Literal["ok", "kept", "stopped", "error"]
REPLAY_RESULTS: Final[tuple[ReplayResult, ...]] = ("ok", "kept", "stopped", "error")

# Uploads run from tens of milliseconds (a transcript) to minutes (an hour of audio, a retry
# storm against a dead server).
# storm against a dead server). 15 and 20 frame the default deadline (20 s), so the alert on
# uploads near their deadline interpolates within a 5 s bucket, not across 10 to 30 s.
DURATION_BUCKETS: Final = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0
)  # fmt: skip


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
        self.upload_deadline = Gauge(
            UPLOAD_DEADLINE,
            "The handoff's deadline (MINIO_UPLOAD_DEADLINE): an upload still running then is "
            "spooled (seconds)",
            registry=registry,
        )
        self.replay_entries = Counter(
            REPLAY_ENTRIES,
            "Spool entries replay dealt with, by outcome: uploaded, already_stored (on the "
            "server already), erased (dropped: the call was erased), corrupt, foreign (another "
            "user's), failed (all three kept for a person)",
            ["outcome"],
            registry=registry,
        )
        self.replay_runs = Counter(
            REPLAY_RUNS,
            "Replay runs, by result: ok (spool empty), kept (entries remain), stopped (the "
            "server failed: down, keys, denied), error (the spool is unusable)",
            ["result"],
            registry=registry,
        )
        self.replay_last_run = Gauge(
            REPLAY_LAST_RUN,
            "When the last replay run ended (Unix time; 0 before the first)",
            registry=registry,
        )
        # Expose zeros, so rate() and alerts work from the first scrape.
        for status in STATUSES:
            self.uploads.labels(status=status)
            self.duration.labels(status=status)
        for outcome in REPLAY_OUTCOMES:
            self.replay_entries.labels(outcome=outcome)
        for result in REPLAY_RESULTS:
            self.replay_runs.labels(result=result)

    def observe(self, status: UploadStatus, size: int | None, seconds: float) -> None:
        """Record one upload's outcome, size (None when unknown, e.g. a failed stream) and time."""
        self.uploads.labels(status=status).inc()
        self.duration.labels(status=status).observe(seconds)
        if size is not None and status != "error":
            self.upload_bytes.observe(size)

    def observe_replay(self, report: ReplayReport | None) -> None:
        """Record one replay run: its entries by outcome and its result (None: the run raised
        before it could report, e.g. an unusable spool)."""
        if report is not None:
            for outcome in REPLAY_OUTCOMES:
                self.replay_entries.labels(outcome=outcome).inc(len(getattr(report, outcome)))
        self.replay_runs.labels(result=replay_result(report)).inc()
        self.replay_last_run.set(time.time())

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


def replay_result(report: ReplayReport | None) -> ReplayResult:
    """The ``result`` label of a replay run (None: it raised before reporting)."""
    if report is None:
        return "error"
    if report.stopped is not None:
        return "stopped"
    return "ok" if report.ok else "kept"


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
