"""One upload timed: the four clients taking turns at one size and body kind, medians of each."""

from __future__ import annotations

import io
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from benchmarks.peers import BUCKET, COMPANY, MB, raw_args

# Untimed warm-up rounds: one per this many timed ones (at least one).
WARM_UP_SHARE: Final = 8


def time_one(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Result:
    """One size and body kind: median seconds of each client, and the uploader's ratios."""

    ours: float
    same: float
    default: float
    minio_py: float

    @property
    def same_ratio(self) -> float:
        """Uploader / boto3 doing the same work."""
        return self.ours / self.same

    @property
    def peer_ratio(self) -> float:
        """Uploader / the faster of boto3's defaults and minio-py."""
        return self.ours / min(self.default, self.minio_py)


def bench_size(clients: tuple[Any, Any, Any, Any], size: int, reps: int, variant: str) -> Result:
    """[uploader, boto3 same request, boto3 defaults, minio-py] for one size and body kind
    (bytes or fileobj); the four take turns in a shuffled order so drift, and what one leaves
    behind, hit all alike."""
    import datetime as dt

    from minio.commonconfig import Tags

    from voice_recordings.checksums import UPLOAD_CHECKSUM
    from voice_recordings.keys import VOICE, object_key
    from voice_recordings.transfer import SINGLE_PUT_LIMIT

    uploader, same_client, raw, peer = clients

    data = os.urandom(size)
    call = f"bench-{variant}-{size // MB}mb"
    # The uploader's key for this call, for every client: the same request, and the server's
    # cost for a key depends on it (moto took about a tenth longer for the uploader's 10 MB file
    # than for the same bytes under a short key).
    key = object_key(VOICE, COMPANY, call, dt.datetime.now(dt.UTC))

    def ours() -> None:
        body = data if variant == "bytes" else io.BytesIO(data)
        result = uploader.upload_audio(body, call_uuid=call, company_id=COMPANY)
        assert not result.spooled

    def boto3_call(client: Any, extra: dict[str, Any], same: bool) -> Callable[[], None]:
        def run() -> None:
            if variant == "bytes":
                client.put_object(Bucket=BUCKET, Key=key, Body=data, **raw_args(call), **extra)
            elif same and size <= SINGLE_PUT_LIMIT:  # as the uploader: the file in one PUT
                body = io.BytesIO(data)
                client.put_object(Bucket=BUCKET, Key=key, Body=body, **raw_args(call), **extra)
            else:
                args = {**raw_args(call), **extra}
                client.upload_fileobj(io.BytesIO(data), BUCKET, key, ExtraArgs=args)
            if same:  # the handoff needs the recording's URL: by hand, a presigned GET
                client.generate_presigned_url(
                    "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600
                )

        return run

    def minio_py() -> None:
        args = raw_args(call)
        tags = Tags.new_object_tags()
        tags["kind"] = "voice"
        # minio-py takes a stream either way; bytes are wrapped without a copy of note.
        peer.put_object(
            BUCKET,
            key,
            io.BytesIO(data),
            length=size,
            content_type=args["ContentType"],
            metadata=args["Metadata"],
            tags=tags,
        )

    actions = [
        ours,
        boto3_call(same_client, {"ChecksumAlgorithm": UPLOAD_CHECKSUM.name}, same=True),
        boto3_call(raw, {}, same=False),
        minio_py,
    ]
    # A new order every round (seeded, so runs compare): a rotation keeps the cycle, so the
    # uploader always came right after minio-py, paying for what it left behind (its multipart
    # threads and buffers being released) at 10 MB, about a tenth of the uploader's time.
    order = random.Random(f"{size}-{variant}")
    # Warm-up, untimed: connections, first-call costs, and the server's heap grown to its working
    # size (moto's RSS grew from 240 to 400 MB over the first five 10 MB rounds). With one call
    # each, the first ten timed rounds at 10 MB ran slower than the rest, unevenly between the
    # clients, and the seeded order repeated that unevenness in every run.
    for _ in range(max(1, reps // WARM_UP_SHARE)):
        for which in order.sample(range(len(actions)), len(actions)):
            actions[which]()
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(reps):
        for which in order.sample(range(len(actions)), len(actions)):
            times[which].append(time_one(actions[which]))
    medians = [statistics.median(t) for t in times]
    return Result(ours=medians[0], same=medians[1], default=medians[2], minio_py=medians[3])
