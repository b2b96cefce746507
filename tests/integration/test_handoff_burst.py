"""A burst of handoffs (``upload_*_async``) against servers that are up but useless, or absent.

The promises: every handoff returns, stored or spooled, within ``MINIO_UPLOAD_DEADLINE`` + 0.5 s
of its own call, however many are in flight (200 here) and whatever the server does (accepts and
never answers, trickles an answer, refuses every request as busy so that botocore backs off and
retries, or is not there at all); the application's default executor is never used; the event
loop keeps serving (its lag stays under 25 ms). Before, handoffs queued in the loop's default
executor and each deadline began only when a thread picked it up; then, with a pool of their own,
the loop lagged 40-210 ms: a full collection of the test process's heap (100-140 ms, which the
lag test now keeps out of its way) and 32 handoff threads running Python at once (10-50 ms on
their own, ticks late by 4-8 ms on average against an absent server).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import gc
import io
import logging
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, Literal

import pytest
from prometheus_client import CollectorRegistry

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.fake_servers.busy import BusyServer
from devtools.fake_servers.stalling import StallingServer
from tests.support import GeneratedStream
from voice_recordings.bodies import Body
from voice_recordings.metrics import upload_metrics
from voice_recordings.settings import StorageSettings
from voice_recordings.uploader import MinioUploader

# Alone: the event loop's lateness and each handoff's time are measured here, and another
# test's load beside them would be in the figures (`make test` runs these after the others).
pytestmark = [pytest.mark.integration, pytest.mark.alone]
WHEN: Final = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
DEADLINE: Final = 1.0  # MINIO_UPLOAD_DEADLINE's least value: the test costs about that
# Against the busy server a deadline with room for one retry's backoff (botocore's first waits
# up to 1 s), so that every handoff sleeps through one before it gives up.
BUSY_DEADLINE: Final = 2.0
HANDOFFS: Final = 200
PROMISED_SLACK: Final = 0.5
# What a loaded 2-core CI machine adds (the whole suite on two workers: measured up to 0.12 s
# over the promise; with other work beside it, up to 0.87 s); the old behaviour overshot by
# seconds (30 calls: 10.8 s; 200 calls: minutes), so this still tells the two apart. On a quiet
# machine the slowest measured 1.28 s.
LOADED_MACHINE: Final = 1.5
TICK: Final = 0.005
MAX_LOOP_LAG: Final = 0.025
# A loaded machine's scheduler now and then takes the CPU from the loop's thread, or from the
# one thread holding the GIL, whatever the handoffs do: with the whole suite running beside
# the test (-n 2, its engines and plugins), bursts of ~250 ticks had up to 3 ticks late by
# 34-110 ms, most often none or one, the rest under 25 ms. That many are allowed, none a
# stall of half a second. (A quiet machine: none, the latest 3-14 ms.)
MACHINE_STALLS: Final = 3
MAX_STALL: Final = 0.5
# The loop's pace: how late a tick comes on average. Measured on the 2-core machine, 200
# handoffs against an absent server (the burst that runs the most Python): 0.9-1.9 ms with
# one handoff thread running Python at a time (up to 2.6 with two other CPU-bound processes
# beside the test), 4.4-8 ms with the old behaviour (32 at once), whose worst tick on a quiet
# machine often stayed under 25 ms all the same.
MAX_MEAN_LATENESS: Final = 0.003

Server = Literal["black-hole", "trickle", "busy", "absent"]
BodyKind = Literal["bytes", "stream"]


class RefusingExecutor(concurrent.futures.ThreadPoolExecutor):
    """The application's default executor: records every use (the handoff must make none)."""

    used = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        RefusingExecutor.used += 1
        return super().submit(fn, *args, **kwargs)


@contextlib.contextmanager
def serving(server: Server) -> Iterator[tuple[str, BusyServer | None]]:
    """The endpoint of ``server`` (and the busy server itself, which counts requests)."""
    if server == "busy":
        with BusyServer() as busy:
            yield busy.endpoint, busy
    elif server == "absent":
        # A port bound and not listening: every connection is refused at once.
        with socket.socket() as bound:
            bound.bind(("127.0.0.1", 0))
            yield f"127.0.0.1:{bound.getsockname()[1]}", None
    else:
        with StallingServer(server, interval=0.05) as stalling:
            yield stalling.endpoint, None


def _body(kind: BodyKind) -> Body:
    if kind == "stream":  # read once, teed to the spool; sent by s3transfer's own threads
        return io.BufferedReader(GeneratedStream(64 * 1024))
    return b"ID3 call audio" * 64


async def _burst(
    uploader: MinioUploader, body: BodyKind = "bytes"
) -> tuple[list[float], list[bool], list[float]]:
    """Each handoff's time from its call and whether it was spooled, and how late each of the
    loop's 5 ms ticks came while the burst ran."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(RefusingExecutor(max_workers=2))
    late: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(TICK)
            late.append(time.monotonic() - before - TICK)

    async def handoff(number: int) -> tuple[float, bool]:
        called = time.monotonic()
        upload = uploader.upload_audio_async if number % 2 else uploader.upload_transcript_async
        result = await upload(_body(body), call_uuid=f"burst-{number}", company_id=7)
        return time.monotonic() - called, result.spooled

    tick = asyncio.create_task(ticker())
    outcomes = await asyncio.gather(*(handoff(n) for n in range(HANDOFFS)))
    stop.set()
    await tick
    return [t for t, _ in outcomes], [s for _, s in outcomes], late


def _uploader(settings: StorageSettings, endpoint: str) -> MinioUploader:
    return MinioUploader(
        dataclasses.replace(settings, endpoint=endpoint, use_ssl=False),
        metrics=upload_metrics(CollectorRegistry()),
    )


@contextlib.contextmanager
def service_logging() -> Iterator[io.StringIO]:
    """Logging as a service configures it: INFO and up, each record formatted with its time, to
    a stream (here in memory). A handoff that spools logs a line; formatting it is the
    handoff's Python too, and it is what made the old behaviour's lag plain (one 25 ms apart
    from the collector's pauses)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@contextlib.contextmanager
def heap_out_of_the_collectors_way() -> Iterator[None]:
    """The heap the test process had before the burst (pytest, moto, botocore: about 160,000
    objects) frozen out of the garbage collector until the burst is over.

    A full collection walks the whole heap with the GIL held, stopping every thread for as long
    as it takes (about 100 ms for this process on the 2-core machine), whichever thread's
    allocation triggered it, and a burst of 200 handoffs allocates enough to trigger one. That
    pause is the application's heap and collector settings' (a service that wants none freezes
    its start-up heap the same way), not the handoffs' share of the GIL, which is what the lag
    test measures; collections of what the burst itself allocates still count.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("server", ["black-hole", "trickle", "busy"])
def test_every_handoff_of_a_burst_returns_within_its_deadline_from_its_call(
    server: Server, embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    deadline = BUSY_DEADLINE if server == "busy" else DEADLINE
    settings = embedded_s3.settings(
        bucket=bucket, spool_dir=tmp_path / "spool", upload_deadline=deadline
    )
    RefusingExecutor.used = 0
    with serving(server) as (endpoint, busy):
        uploader = _uploader(settings, endpoint)
        times, spooled, _ = asyncio.run(_burst(uploader))
        uploader.close()
        if busy is not None:  # botocore did back off and retry (its retry quota permitting)
            assert busy.requests > HANDOFFS
    assert all(spooled)
    assert max(times) <= deadline + PROMISED_SLACK + LOADED_MACHINE, sorted(times)[-5:]
    assert RefusingExecutor.used == 0
    assert len(list((tmp_path / "spool").iterdir())) >= HANDOFFS


@pytest.mark.parametrize(
    ("server", "body"),
    [("black-hole", "bytes"), ("trickle", "bytes"), ("absent", "bytes"), ("black-hole", "stream")],
)
def test_the_event_loop_keeps_serving_during_a_burst(
    server: Server, body: BodyKind, embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    settings = embedded_s3.settings(
        bucket=bucket, spool_dir=tmp_path / "spool", upload_deadline=DEADLINE
    )
    with (
        serving(server) as (endpoint, _),
        service_logging() as log,
        heap_out_of_the_collectors_way(),
    ):
        uploader = _uploader(settings, endpoint)
        _, spooled, late = asyncio.run(_burst(uploader, body))
        uploader.close()
    assert all(spooled)
    assert log.getvalue().count(" WARNING voice_recordings: ") == HANDOFFS  # one line each
    over = [tick for tick in late if tick >= MAX_LOOP_LAG]
    assert len(over) <= MACHINE_STALLS and max(late) < MAX_STALL, sorted(late)[-5:]
    assert statistics.mean(late) < MAX_MEAN_LATENESS, statistics.mean(late)
