"""Replay's upload outcomes as metrics, on the embedded endpoint: a recording spooled while the
server was down is counted ``uploaded`` by the replay that delivers it, ``already_stored`` by one
that finds it there (the outcomes that need no server are in tests/unit/test_replay_metrics.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from devtools.endpoint.embedded_s3 import EmbeddedS3
from voice_recordings.metrics import REPLAY_ENTRIES, REPLAY_RUNS, upload_metrics
from voice_recordings.uploader import MinioUploader

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def test_replay_counts_what_it_uploaded_and_what_was_already_stored(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    live = embedded_s3.settings(bucket=bucket, spool_dir=tmp_path / "spool", max_attempts=1)
    down = dataclasses.replace(live, endpoint="127.0.0.1:9")  # nothing listens on port 9
    MinioUploader(down, metrics=upload_metrics(CollectorRegistry())).upload_audio(
        b"audio", call_uuid="metrics", company_id=5, when=WHEN
    )
    registry = CollectorRegistry()
    online = MinioUploader(live, metrics=upload_metrics(registry))
    assert online.spool is not None
    (entry,) = online.spool.entries()
    shutil.copytree(entry, tmp_path / "kept")

    online.replay_spool()
    shutil.copytree(tmp_path / "kept", entry)  # a replayer died after the upload, before removal
    online.replay_spool()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(f"{name}_total", labels)

    assert value(REPLAY_ENTRIES, outcome="uploaded") == 1
    assert value(REPLAY_ENTRIES, outcome="already_stored") == 1
    assert value(REPLAY_RUNS, result="ok") == 2
