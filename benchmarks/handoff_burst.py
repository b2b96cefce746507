"""The healthy side of a burst of handoffs: 100 one-megabyte ``upload_audio_async`` at once,
against raw boto3 doing the same from a thread pool of the same size (the uploader's
:data:`~voice_recordings.handoff.HANDOFF_THREADS`), in the same run; the ratio is the verdict.
Run by ``make bench`` (``benchmarks.upload_vs_boto3``) on the embedded endpoint and the sink.

"The same" is what a handoff does: the PUT (metadata, tag, the CRC32 checksum in a header) and
the presigned GET URL it hands to OmniPlay, as "boto3 same" does in the one-upload table. Each
side writes the same 100 keys every round (as the one-upload table reuses its keys): the
embedded endpoint keeps objects in memory, and with new keys every round it slowed from round
to round (0.7 to 1.8 s a burst within one run), whichever side came later paying more. The
sides alternate which goes first.
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
# One burst's ratio swings widely (0.80 to 1.24 between the rounds of one run on a quiet
# machine), so the verdict is the ratio of the medians of this many rounds.
BURST_ROUNDS: Final = 9
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

    async def handoffs() -> None:
        results = await asyncio.gather(
            *(
                uploader.upload_audio_async(body, call_uuid=f"burst-{n}", company_id=1)
                for n in range(BURST)
            )
        )
        assert not any(result.spooled for result in results)

    def ours() -> float:
        started = time.perf_counter()
        asyncio.run(handoffs())
        return time.perf_counter() - started

    def theirs() -> float:
        def handoff(n: int) -> None:
            call = f"raw-burst-{n}"
            key = f"company_1/voice/2026/01/01/{call}.mp3"
            same.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ChecksumAlgorithm=UPLOAD_CHECKSUM.name,
                **raw_args(call),
            )
            same.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
            )

        started = time.perf_counter()
        with ThreadPoolExecutor(HANDOFF_THREADS) as pool:
            list(pool.map(handoff, range(BURST)))
        return time.perf_counter() - started

    ours(), theirs()  # warm-up: connections, threads, the keys created
    mine, boto3 = [], []
    for round_ in range(BURST_ROUNDS):
        if round_ % 2:
            boto3.append(theirs())
            mine.append(ours())
        else:
            mine.append(ours())
            boto3.append(theirs())
    return BurstResult(statistics.median(mine), statistics.median(boto3))
