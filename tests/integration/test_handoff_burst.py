"""A burst of handoffs (``upload_*_async``) against a server that accepts and never answers.

The promise: every handoff returns, stored or spooled, within ``MINIO_UPLOAD_DEADLINE`` + 0.5 s
of its own call, however many are in flight; the application's default executor is never used;
the event loop keeps serving (its lag stays under 25 ms). Before, handoffs queued in the loop's
default executor and each deadline began only when a thread picked it up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from prometheus_client import CollectorRegistry

from devtools.embedded_s3 import EmbeddedS3
from devtools.stalling_servers import BEHAVIOURS, Behaviour, StallingServer
from voice_recordings.metrics import upload_metrics
from voice_recordings.uploader import MinioUploader

pytestmark = pytest.mark.integration
WHEN: Final = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
DEADLINE: Final = 1.0  # MINIO_UPLOAD_DEADLINE's least value: the test costs about that
HANDOFFS: Final = 200
PROMISED_SLACK: Final = 0.5
# What a loaded 2-core CI machine adds (the whole suite on two workers: measured up to 0.12 s
# over the promise; with other work beside it, up to 0.87 s); the old behaviour overshot by
# seconds (30 calls: 10.8 s; 200 calls: minutes), so this still tells the two apart. On a quiet
# machine the slowest measured 1.28 s.
LOADED_MACHINE: Final = 1.5
MAX_LOOP_LAG: Final = 0.025


class RefusingExecutor(concurrent.futures.ThreadPoolExecutor):
    """The application's default executor: records every use (the handoff must make none)."""

    used = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        RefusingExecutor.used += 1
        return super().submit(fn, *args, **kwargs)


async def _burst(uploader: MinioUploader) -> tuple[list[float], list[bool], float]:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(RefusingExecutor(max_workers=2))
    lag = 0.0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal lag
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.005)
            lag = max(lag, time.monotonic() - before - 0.005)

    async def handoff(number: int) -> tuple[float, bool]:
        called = time.monotonic()
        upload = uploader.upload_audio_async if number % 2 else uploader.upload_transcript_async
        result = await upload(b"ID3 call audio" * 64, call_uuid=f"burst-{number}", company_id=7)
        return time.monotonic() - called, result.spooled

    tick = asyncio.create_task(ticker())
    outcomes = await asyncio.gather(*(handoff(n) for n in range(HANDOFFS)))
    stop.set()
    await tick
    return [t for t, _ in outcomes], [s for _, s in outcomes], lag


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_every_handoff_of_a_burst_returns_within_its_deadline_from_its_call(
    behaviour: Behaviour, embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    settings = embedded_s3.settings(
        bucket=bucket, spool_dir=tmp_path / "spool", upload_deadline=DEADLINE
    )
    RefusingExecutor.used = 0
    with StallingServer(behaviour, interval=0.05) as server:
        uploader = MinioUploader(
            dataclasses.replace(settings, endpoint=server.endpoint, use_ssl=False),
            metrics=upload_metrics(CollectorRegistry()),
        )
        times, spooled, _ = asyncio.run(_burst(uploader))
        uploader.close()
    assert all(spooled)
    assert max(times) <= DEADLINE + PROMISED_SLACK + LOADED_MACHINE, sorted(times)[-5:]
    assert RefusingExecutor.used == 0
    assert len(list((tmp_path / "spool").iterdir())) >= HANDOFFS


@pytest.mark.xfail(
    reason="not met yet: 32 handoff threads preparing requests at once hold the GIL for 40-210 "
    "ms of loop lag on 2 cores (issue 26, class 1)",
    strict=False,
)
def test_the_event_loop_keeps_serving_during_a_burst(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    settings = embedded_s3.settings(
        bucket=bucket, spool_dir=tmp_path / "spool", upload_deadline=DEADLINE
    )
    with StallingServer("black-hole") as server:
        uploader = MinioUploader(
            dataclasses.replace(settings, endpoint=server.endpoint, use_ssl=False),
            metrics=upload_metrics(CollectorRegistry()),
        )
        _, _, lag = asyncio.run(_burst(uploader))
        uploader.close()
    assert lag < MAX_LOOP_LAG, lag
