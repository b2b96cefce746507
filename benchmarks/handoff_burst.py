"""The healthy side of a burst of handoffs: 100 one-megabyte ``upload_audio_async`` at once,
against raw boto3 doing the same PUTs from a thread pool of the same size (the uploader's
:data:`~voice_recordings.handoff.HANDOFF_THREADS`), in the same run; the ratio is the verdict.
Run by ``make bench`` (``benchmarks.upload_vs_boto3``) on the embedded endpoint and the sink.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from voice_recordings.checksums import UPLOAD_CHECKSUM
from voice_recordings.handoff import HANDOFF_THREADS

BURST: Final = 100
BURST_SIZE: Final = 1024 * 1024
BURST_ROUNDS: Final = 3
TARGET_BURST_RATIO: Final = 1.10


@dataclass(frozen=True)
class BurstResult:
    """Median seconds for the whole burst: the uploader's handoffs, and boto3's pool."""

    ours: float
    boto3: float

    @property
    def ratio(self) -> float:
        """Uploader / boto3 with a pool of the same size."""
        return self.ours / self.boto3


def bench_burst(uploader: Any, same: Any, raw_args: Callable[[str], dict[str, Any]]) -> BurstResult:
    """``BURST`` handoffs of ``BURST_SIZE`` bytes each way, ``BURST_ROUNDS`` rounds alternating."""
    body = os.urandom(BURST_SIZE)
    bucket = uploader.settings.bucket

    async def handoffs(round_: int) -> None:
        await asyncio.gather(
            *(
                uploader.upload_audio_async(body, call_uuid=f"burst-{round_}-{n}", company_id=1)
                for n in range(BURST)
            )
        )

    def ours(round_: int) -> float:
        started = time.perf_counter()
        asyncio.run(handoffs(round_))
        return time.perf_counter() - started

    def theirs(round_: int) -> float:
        def put(n: int) -> None:
            call = f"raw-burst-{round_}-{n}"
            same.put_object(
                Bucket=bucket,
                Key=f"company_1/voice/2026/01/01/{call}.mp3",
                Body=body,
                ChecksumAlgorithm=UPLOAD_CHECKSUM.name,
                **raw_args(call),
            )

        started = time.perf_counter()
        with ThreadPoolExecutor(HANDOFF_THREADS) as pool:
            list(pool.map(put, range(BURST)))
        return time.perf_counter() - started

    ours(-1), theirs(-1)  # warm-up: connections, threads
    mine, boto3 = [], []
    for round_ in range(BURST_ROUNDS):
        mine.append(ours(round_))
        boto3.append(theirs(round_))
    return BurstResult(statistics.median(mine), statistics.median(boto3))
