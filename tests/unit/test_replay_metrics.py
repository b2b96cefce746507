"""Replay's outcomes and the handoff's deadline as metrics: replay run against a spool, the
registry scraped (the upload and already-stored outcomes, which need a server, are in
tests/integration/test_replay_metrics.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from tests.support import offline_uploader
from voice_recordings import cli
from voice_recordings.metrics import (
    REPLAY_ENTRIES,
    REPLAY_LAST_RUN,
    REPLAY_OUTCOMES,
    REPLAY_RESULTS,
    REPLAY_RUNS,
    UPLOAD_DEADLINE,
    upload_metrics,
)
from voice_recordings.settings import Env
from voice_recordings.spool.entry import BODY_FILE
from voice_recordings.spool.replay import ReplayReport
from voice_recordings.spool.spool_directory import SpoolDirectoryError
from voice_recordings.uploader import MinioUploader

WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def entries(registry: CollectorRegistry, outcome: str) -> float | None:
    return registry.get_sample_value(f"{REPLAY_ENTRIES}_total", {"outcome": outcome})


def runs(registry: CollectorRegistry, result: str) -> float | None:
    return registry.get_sample_value(f"{REPLAY_RUNS}_total", {"result": result})


def uploader_on(spool_dir: Path) -> tuple[MinioUploader, CollectorRegistry]:
    """An uploader whose server is down (connections refused), with a registry of its own."""
    offline = offline_uploader(spool_dir)
    registry = CollectorRegistry()
    return MinioUploader(offline.settings, metrics=upload_metrics(registry)), registry


def spool_one(uploader: MinioUploader, call: str) -> Path:
    """Spool one recording (the server is down) and return its entry."""
    assert uploader.upload_audio(b"audio", call_uuid=call, company_id=5, when=WHEN).spooled
    assert uploader.spool is not None
    (entry,) = uploader.spool.entries()
    return entry


def cli_env(spool_dir: Path) -> dict[str, str]:
    """The CLI's environment for a server that is down and ``spool_dir``."""
    return {
        Env.ENDPOINT: "127.0.0.1:9",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.USE_SSL: "false",
        Env.SPOOL_DIR: str(spool_dir),
    }


def test_the_outcome_labels_are_the_reports_lists() -> None:
    # One word per outcome, in the report, the CLI's summary and the metric alike.
    lists = {f.name for f in dataclasses.fields(ReplayReport) if str(f.type).startswith("list[")}
    assert set(REPLAY_OUTCOMES) == lists


def test_every_outcome_and_result_is_exposed_at_zero_before_any_replay() -> None:
    registry = CollectorRegistry()
    upload_metrics(registry)
    assert all(entries(registry, outcome) == 0 for outcome in REPLAY_OUTCOMES)
    assert all(runs(registry, result) == 0 for result in REPLAY_RESULTS)
    assert registry.get_sample_value(REPLAY_LAST_RUN) == 0


def test_a_replay_against_a_server_that_is_down_counts_a_stopped_run(tmp_path: Path) -> None:
    uploader, registry = uploader_on(tmp_path / "spool")
    spool_one(uploader, "down")
    before = time.time()

    report = uploader.replay_spool()

    assert report.stopped is not None
    assert runs(registry, "stopped") == 1 and runs(registry, "ok") == 0
    assert entries(registry, "uploaded") == 0  # the entry is kept, not counted as anything
    assert (registry.get_sample_value(REPLAY_LAST_RUN) or 0) >= before


def test_a_corrupt_entry_is_counted_and_the_run_kept_entries(tmp_path: Path) -> None:
    uploader, registry = uploader_on(tmp_path / "spool")
    (spool_one(uploader, "corrupt") / BODY_FILE).write_bytes(b"other")

    uploader.replay_spool()
    uploader.replay_spool()  # each run finds it again: the alert holds until a person acts

    assert entries(registry, "corrupt") == 2
    assert runs(registry, "kept") == 2


def test_an_empty_spool_is_an_ok_run(tmp_path: Path) -> None:
    uploader, registry = uploader_on(tmp_path / "spool")
    assert uploader.replay_spool().ok
    assert runs(registry, "ok") == 1


def test_an_unusable_spool_is_an_error_run(tmp_path: Path) -> None:
    (tmp_path / "spool").write_text("a file, not a directory")
    uploader, registry = uploader_on(tmp_path / "spool")
    with pytest.raises(SpoolDirectoryError):
        uploader.replay_spool()
    assert runs(registry, "error") == 1


def test_the_deadline_is_exported_as_configured(tmp_path: Path) -> None:
    settings = dataclasses.replace(offline_uploader(None).settings, upload_deadline=7.5)
    registry = CollectorRegistry()
    MinioUploader(settings, metrics=upload_metrics(registry))
    assert registry.get_sample_value(UPLOAD_DEADLINE) == 7.5


def test_cli_replay_writes_a_metrics_file_whose_counts_grow_run_after_run(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    (spool_one(uploader_on(spool_dir)[0], "corrupt") / BODY_FILE).write_bytes(b"other")
    env = cli_env(spool_dir)
    metrics_file = tmp_path / "voice_recordings_replay.prom"
    argv = ["replay", "--metrics-file", str(metrics_file)]

    for _ in range(3):  # three cron runs, three processes' worth of counts
        assert cli.main(argv, env, io.StringIO()) == cli.EXIT_FAILED

    text = metrics_file.read_text()
    assert f'{REPLAY_ENTRIES}_total{{outcome="corrupt"}} 3.0' in text
    assert f'{REPLAY_RUNS}_total{{result="kept"}} 3.0' in text
    assert REPLAY_LAST_RUN in text
    # Only replay's metrics: the service's own scrape exports the uploads and the spool.
    assert "voice_ai_minio_uploads_total" not in text and "spool_items" not in text
    assert not list(tmp_path.glob("*.prom.*"))  # no temporary file left for the collector


def test_a_metrics_file_that_cannot_be_parsed_starts_again(tmp_path: Path) -> None:
    metrics_file = tmp_path / "replay.prom"
    metrics_file.write_text("this is { not the exposition format\n")
    argv = ["replay", "--metrics-file", str(metrics_file)]

    assert cli.main(argv, cli_env(tmp_path / "spool"), io.StringIO()) == cli.EXIT_OK

    assert f'{REPLAY_RUNS}_total{{result="ok"}} 1.0' in metrics_file.read_text()
