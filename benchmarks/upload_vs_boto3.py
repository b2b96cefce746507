"""The uploader against raw boto3 and minio-py on the same embedded endpoint, over TLS as in
production, and its peak memory.

    python -m benchmarks.upload_vs_boto3            (``make bench``)

1. Time: ``MinioUploader.upload_audio`` against boto3's ``put_object`` (bytes, and files up to
   the single-PUT limit for "same") or ``upload_fileobj`` (file objects) and minio-py's
   ``put_object`` with the same metadata, tag and content type, at 1, 10 and 100 MB, over HTTPS
   (the endpoint's throwaway CA trusted as ``MINIO_CA_BUNDLE``), repetitions interleaved in a new
   shuffled order each round so drift hits all alike; medians and ratios. Peers: boto3 "same"
   does by hand what the uploader does (the same request, with the upload path's CRC32 checksum
   in a header, which the server verifies and echoes, then a presigned URL for the handoff), so
   its ratio is the uploader's own overhead (validation, metrics, the deadline, the spool's
   bookkeeping): target at most 1.05 at 1 and 10 MB. "dflt" is a bare boto3 call with its
   defaults (a CRC32 checksum in an aws-chunked trailer, no URL) and "minio-py" the MinIO SDK's
   call with its defaults (no checksum over HTTPS, no URL): target at most 1.10 times the faster
   of the two at 1 and 10 MB.
2. The client's cost alone: the same four clients, the same way, against a sink
   (:mod:`devtools.sink_s3`, in a process of its own, over TLS) that answers every upload at once
   as S3 would (an ETag, the checksum echoed) and does nothing else. moto spends more on an upload
   than any client, so the embedded endpoint's ratios understate what a client costs; the sink's
   show it. Reported beside the endpoint's columns, without a target of their own: against the
   sink, the presigned URL only the uploader and "boto3 same" make is a visible share of the
   time, and minio-py computes no checksum at all.
3. Memory: a fresh child process uploads a 200 MB file object generated on the fly (never one
   bytes object), and a file of the single-PUT limit (64 MiB, streamed in one PUT); the figure is
   its peak RSS (VmHWM) after the upload minus the peak after setup.

The endpoint (moto) and the sink run in processes of their own, each with one malloc arena
(:data:`SERVER_ENV`), so no memory figure includes a server's. Exit code 1 when a target is
missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from benchmarks.handoff_burst import (
    BURST,
    BURST_ROUNDS,
    BURST_SIZE,
    TARGET_BURST_RATIO,
    bench_burst,
)

MB: Final = 1024 * 1024
# (size, repetitions): 100 MB has no ratio target, and over TLS each round moves 400 MB.
SIZES: Final = ((1 * MB, 81), (10 * MB, 41), (100 * MB, 3))
# A 100 MB recording arrives as a file, never as one bytes object (and boto3's put_object of
# 100 MB bytes over TLS takes seconds a round: the run would double).
BYTES_SIZES: Final = (1 * MB, 10 * MB)
TARGET_RATIO: Final = 1.05  # against boto3 doing the same work
TARGET_PEER_RATIO: Final = 1.10  # against the faster of boto3's and minio-py's defaults
RATIO_SIZES: Final = (1 * MB, 10 * MB)
# Untimed warm-up rounds: one per this many timed ones (at least one).
WARM_UP_SHARE: Final = 8
RSS_SIZE: Final = 200 * MB
TARGET_RSS_DELTA: Final = 64 * MB
BUCKET: Final = "voice-recordings"
# The servers' processes, and only theirs: one glibc malloc arena. By default each of a threaded
# server's threads (one per kept-open connection, so one per client) may get an arena of its
# own, whose state (grown, trimmed, fragmented by 10 MB bodies) then differs from client to
# client for a whole run: the 10 MB same-work ratio of unchanged code swung from 0.98 to 1.15
# between runs (5 of 12 measurements over 1.05), one client's requests steadily slower than
# the other's. With one arena every connection meets the same allocator: 0.98 to 1.03 in 12
# (docs/developing.md, "Performance history"). Requests are sequential, so the one arena is never
# contended.
SERVER_ENV: Final = {"MALLOC_ARENA_MAX": "1"}
COMPANY: Final = 42


# -- the endpoint, in a process of its own ------------------------------------------------------


def serve() -> None:
    """Child: run the embedded endpoint, print its address and keys, stop when stdin closes."""
    from devtools.embedded_s3 import EmbeddedS3

    # TLS, connections kept open (the defaults), as against MinIO.
    with EmbeddedS3() as endpoint:
        endpoint.s3().create_bucket(Bucket=BUCKET)
        print(json.dumps(endpoint.env(bucket=BUCKET)), flush=True)
        sys.stdin.read()


def serve_sink() -> None:
    """Child: run the sink (:mod:`devtools.sink_s3`, TLS), print its environment, stop when
    stdin closes."""
    from devtools.sink_s3 import SinkS3

    with SinkS3() as sink:
        print(json.dumps(sink.env(bucket=BUCKET)), flush=True)
        sys.stdin.read()


@contextmanager
def endpoint_process(mode: str = "--serve") -> Iterator[dict[str, str]]:
    """Start :func:`serve` (or, with ``--serve-sink``, :func:`serve_sink`) in a child; yield the
    MINIO_* environment for it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.upload_vs_boto3", mode],
        env={**os.environ, **SERVER_ENV},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        env: dict[str, str] = json.loads(child.stdout.readline())
        yield env
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)


# -- payloads -----------------------------------------------------------------------------------


class PatternStream(io.RawIOBase):
    """``size`` bytes made on the fly from a 1 MiB pattern; seekable (like a file), or not."""

    _block = bytes(range(256)) * 4096

    def __init__(self, size: int, seekable: bool = True) -> None:
        self.size, self.pos, self._seekable = size, 0, seekable

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        if not self._seekable:
            raise OSError("not seekable")
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable:
            raise OSError("not seekable")
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        """One allocation per read, as a file's ``read`` (RawIOBase's would copy it again)."""
        remaining = self.size - self.pos
        n = remaining if size is None or size < 0 else min(size, remaining)
        parts, done = [], 0
        while done < n:
            start = (self.pos + done) % len(self._block)
            take = min(n - done, len(self._block) - start)
            parts.append(self._block[start : start + take])
            done += take
        self.pos += n
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        # Fills the whole buffer, as a file does: s3transfer takes a short read as the part's end.
        view = memoryview(buffer)
        n = min(len(view), self.size - self.pos)
        done = 0
        while done < n:
            start = (self.pos + done) % len(self._block)
            take = min(n - done, len(self._block) - start)
            view[done : done + take] = self._block[start : start + take]
            done += take
        self.pos += n
        return n


# -- timing -------------------------------------------------------------------------------------


def make_clients(env: dict[str, str], spool: Path) -> tuple[Any, Any, Any, Any]:
    """The uploader (own metrics registry, a spool), boto3 built as the uploader builds it (for
    "same"), boto3 with its defaults and minio-py, one endpoint, all trusting its CA."""
    import boto3
    import urllib3
    from minio import Minio
    from prometheus_client import CollectorRegistry

    from voice_recordings.client import client_config, make_s3_client
    from voice_recordings.metrics import upload_metrics
    from voice_recordings.settings import StorageSettings
    from voice_recordings.uploader import MinioUploader

    settings = StorageSettings.from_env({**env, "MINIO_SPOOL_DIR": str(spool)})
    uploader = MinioUploader(settings, metrics=upload_metrics(CollectorRegistry()))
    raw = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        config=client_config(settings),
        verify=settings.ca_bundle or True,
    )
    peer = Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.use_ssl,
        region=settings.region,
        # minio-py's own default pool, with the CA to trust.
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.ca_bundle,
            retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503]),
        ),
    )
    return uploader, make_s3_client(settings), raw, peer


def raw_args(call: str) -> dict[str, Any]:
    """What the uploader sends besides the body, for boto3 to send too."""
    import datetime as dt

    from voice_recordings.metadata import object_metadata

    return {
        "ContentType": "audio/mpeg",
        "Metadata": object_metadata(call, COMPANY, uploaded_at=dt.datetime.now(dt.UTC)),
        "Tagging": "kind=voice",
    }


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


# -- memory -------------------------------------------------------------------------------------


def vm_hwm() -> int:
    """This process's peak resident set size so far, in bytes (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def rss_child(mode: str) -> None:
    """Child: set up, warm up, note the peak; upload 200 MB lazily; print the peak's growth."""
    from voice_recordings.transfer import SINGLE_PUT_LIMIT

    env = json.loads(os.environ["BENCH_ENV"])
    with tempfile.TemporaryDirectory() as spool:
        uploader, _, raw, _ = make_clients(env, Path(spool))
        uploader.upload_audio(b"warm-up", call_uuid="rss-warm", company_id=COMPANY)
        raw.upload_fileobj(io.BytesIO(b"warm-up"), BUCKET, "bench/warm.mp3")
        baseline = vm_hwm()
        if mode == "uploader":
            result = uploader.upload_audio(
                PatternStream(RSS_SIZE), call_uuid="rss-file", company_id=COMPANY
            )
            assert not result.spooled and result.size == RSS_SIZE
        elif mode == "uploader-single":
            result = uploader.upload_audio(
                PatternStream(SINGLE_PUT_LIMIT), call_uuid="rss-single", company_id=COMPANY
            )
            assert not result.spooled and result.size == SINGLE_PUT_LIMIT
        elif mode == "uploader-stream":
            stream = io.BufferedReader(PatternStream(RSS_SIZE, seekable=False))
            result = uploader.upload_audio(stream, call_uuid="rss-stream", company_id=COMPANY)
            assert not result.spooled and result.size == RSS_SIZE
        else:
            raw.upload_fileobj(PatternStream(RSS_SIZE), BUCKET, "bench/rss.mp3")
        print(json.dumps({"baseline": baseline, "peak": vm_hwm()}))


def measure_rss(env: dict[str, str], mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.upload_vs_boto3", "--rss", mode],
        env={**os.environ, "BENCH_ENV": json.dumps(env)},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return int(figures["peak"]) - int(figures["baseline"])


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    """Run both benchmarks against a fresh endpoint; print the table; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rss", help=argparse.SUPPRESS)
    parser.add_argument(
        "--sizes",
        default=",".join(str(size // MB) for size, _ in SIZES),
        help="comma-separated sizes in MB out of %(default)s (e.g. 1,10 to iterate quickly)",
    )
    parser.add_argument("--no-rss", action="store_true", help="skip the memory benchmark")
    args = parser.parse_args()
    chosen = {int(text) * MB for text in args.sizes.split(",") if text.strip()}
    unknown = chosen - {size for size, _ in SIZES}
    if unknown:
        parser.error(f"--sizes: choose from {', '.join(str(s // MB) for s, _ in SIZES)} (MB)")
    if args.serve:
        serve()
        return 0
    if args.serve_sink:
        serve_sink()
        return 0
    if args.rss:
        rss_child(args.rss)
        return 0

    missed: list[str] = []
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with (
        endpoint_process() as env,
        endpoint_process("--serve-sink") as sink_env,
        tempfile.TemporaryDirectory() as spool,
    ):
        clients = make_clients(env, Path(spool))
        sink_clients = make_clients(sink_env, Path(spool))
        uploader = clients[0]
        print(f"endpoint: {uploader.settings.endpoint_url} (TLS, CA {env.get('MINIO_CA_BUNDLE')})")
        sink_url = sink_clients[0].settings.endpoint_url
        print(f"sink: {sink_url} (TLS; answers at once, keeps nothing)")
        print(
            f"{'':16} {'on the embedded endpoint':-^55}  {'on the sink':-^35}\n"
            f"{'size':>7} {'body':<8} {'uploader':>10} {'boto3 same':>11} {'ratio':>6} "
            f"{'boto3 dflt':>11} {'minio-py':>10} {'ratio':>6}  "
            f"{'uploader':>9} {'same':>6} {'ratio':>6} {'peer':>6} {'ratio':>6}"
        )
        for size, reps in (entry for entry in SIZES if entry[0] in chosen):
            for variant in ("bytes", "fileobj") if size in BYTES_SIZES else ("fileobj",):
                r = bench_size(clients, size, reps, variant)
                k = bench_size(sink_clients, size, reps, variant)
                flags = []
                if size in RATIO_SIZES and r.same_ratio > TARGET_RATIO:
                    flags.append(f"> {TARGET_RATIO} same-work target")
                    missed.append(f"{size // MB} MB {variant}: {r.same_ratio:.3f} x boto3 same")
                if size in RATIO_SIZES and r.peer_ratio > TARGET_PEER_RATIO:
                    flags.append(f"> {TARGET_PEER_RATIO} peer target")
                    missed.append(f"{size // MB} MB {variant}: {r.peer_ratio:.3f} x faster peer")
                flag = "  " + "; ".join(flags) if flags else ""
                print(
                    f"{size // MB:>4} MB {variant:<8} {r.ours * 1000:>8.1f}ms "
                    f"{r.same * 1000:>9.1f}ms {r.same_ratio:>6.3f} {r.default * 1000:>9.1f}ms "
                    f"{r.minio_py * 1000:>8.1f}ms {r.peer_ratio:>6.3f}  {k.ours * 1000:>7.1f}ms "
                    f"{k.same * 1000:>4.1f}ms {k.same_ratio:>6.3f} "
                    f"{min(k.default, k.minio_py) * 1000:>4.1f}ms {k.peer_ratio:>6.3f}  "
                    f"(median of {reps}){flag}",
                    flush=True,
                )
        print(
            f"burst of {BURST} x {BURST_SIZE // MB} MB handoffs vs boto3, a pool of the same size:"
        )
        for label, (ours, same, _, _) in (("endpoint", clients), ("sink", sink_clients)):
            burst = bench_burst(ours, same, raw_args)
            flag = ""
            if burst.ratio > TARGET_BURST_RATIO:
                flag = f"  > {TARGET_BURST_RATIO} target"
                missed.append(f"burst on the {label}: {burst.ratio:.3f} x boto3")
            print(
                f"  {label:<9} uploader {burst.ours:.3f}s  boto3 {burst.boto3:.3f}s  "
                f"ratio {burst.ratio:.3f}  (median of {BURST_ROUNDS}){flag}",
                flush=True,
            )
        uploader.close()
        sink_clients[0].close()
        if args.no_rss:
            print("memory benchmark skipped (--no-rss)")
            return _verdict(missed)
        print(f"peak RSS added by a {RSS_SIZE // MB} MB upload (fresh process each):")
        for mode, label in (
            ("uploader", "uploader, seekable file object"),
            ("uploader-single", "uploader, 64 MiB seekable file object (one PUT)"),
            ("uploader-stream", "uploader, non-seekable stream (teed to the spool)"),
            ("boto3", "boto3 upload_fileobj, seekable file object"),
        ):
            delta = measure_rss(env, mode)
            flag = ""
            if mode.startswith("uploader") and delta >= TARGET_RSS_DELTA:
                flag = f"  >= {TARGET_RSS_DELTA // MB} MB target"
                missed.append(f"RSS {label}: {delta / MB:.1f} MB")
            print(f"  {label:<52} {delta / MB:>6.1f} MB{flag}", flush=True)
    return _verdict(missed)


def _verdict(missed: list[str]) -> int:
    if missed:
        print("targets missed: " + "; ".join(missed))
        return 1
    print("targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
