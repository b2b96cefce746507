"""The specification's Prometheus metrics: names, labels, registries."""

from __future__ import annotations

import importlib

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from voice_recordings import metrics
from voice_recordings.metrics import (
    SPOOL_ITEMS,
    STATUSES,
    UPLOAD_BYTES,
    UPLOAD_DURATION,
    UPLOADS,
    upload_metrics,
)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_the_specification_names_are_exposed() -> None:
    registry = CollectorRegistry()
    m = upload_metrics(registry)
    m.observe("success", 1000, 0.2)
    m.observe("success", 3000, 0.4)
    m.observe("spooled", 500, 1.0)
    m.observe("error", None, 2.0)

    # The specification's queries: uploads_total by status, bytes_sum / bytes_count.
    assert value(registry, "voice_ai_minio_uploads_total", status="success") == 2
    assert value(registry, "voice_ai_minio_uploads_total", status="spooled") == 1
    assert value(registry, "voice_ai_minio_uploads_total", status="error") == 1
    assert value(registry, "voice_ai_minio_upload_bytes_sum") == 4500
    assert value(registry, "voice_ai_minio_upload_bytes_count") == 3
    assert value(registry, f"{UPLOAD_DURATION}_count", status="error") == 1
    assert value(registry, f"{UPLOAD_DURATION}_bucket", status="success", le="0.25") == 1
    text = generate_latest(registry).decode()
    for name in (f"{UPLOADS}_total", f"{UPLOAD_BYTES}_sum", f"{UPLOAD_DURATION}_bucket"):
        assert name in text


def test_every_status_is_exposed_at_zero_before_any_upload() -> None:
    registry = CollectorRegistry()
    upload_metrics(registry)
    for status in STATUSES:
        assert value(registry, "voice_ai_minio_uploads_total", status=status) == 0


def test_spool_gauge_reads_the_spool_at_scrape_time() -> None:
    registry = CollectorRegistry()
    depth = [3]
    upload_metrics(registry).track_spool(lambda: depth[0])
    assert value(registry, SPOOL_ITEMS) == 3
    depth[0] = 0  # e.g. a cron replay emptied the spool
    assert value(registry, SPOOL_ITEMS) == 0


def test_an_unreadable_spool_shows_nan_and_the_scrape_still_answers() -> None:
    registry = CollectorRegistry()
    m = upload_metrics(registry)
    m.observe("success", 1000, 0.2)

    def unreadable() -> int:
        raise PermissionError(13, "Permission denied", "/var/lib/voice-ai/spool")

    m.track_spool(unreadable)
    text = generate_latest(registry).decode()  # every other metric is still scraped
    assert f"{SPOOL_ITEMS} NaN" in text
    assert value(registry, "voice_ai_minio_uploads_total", status="success") == 1


def test_one_set_of_metrics_per_registry_even_after_a_reimport() -> None:
    registry = CollectorRegistry()
    assert upload_metrics(registry) is upload_metrics(registry)
    default = upload_metrics()
    assert default.registry is REGISTRY
    reloaded = importlib.reload(metrics)  # "Duplicated timeseries" if it registered again
    assert reloaded.upload_metrics().uploads is default.uploads
    assert upload_metrics(CollectorRegistry()) is not upload_metrics(registry)
