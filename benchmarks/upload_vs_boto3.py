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
   (:mod:`devtools.fake_servers.sink`, in a process of its own, over TLS) that answers every upload
   at once as S3 would (an ETag, the checksum echoed) and does nothing else. moto spends more on an
   upload than any client, so the embedded endpoint's ratios understate what a client costs; the
   sink's show it. Reported beside the endpoint's columns, without a target of their own: against
   the sink, the presigned URL only the uploader and "boto3 same" make is a visible share of the
   time, and minio-py computes no checksum at all.
3. Memory: a fresh child process uploads a 200 MB file object generated on the fly (never one
   bytes object), and a file of the single-PUT limit (64 MiB, streamed in one PUT); the figure is
   its peak RSS (VmHWM) after the upload minus the peak after setup.

The endpoint (moto) and the sink run in processes of their own, each with one malloc arena
(:mod:`benchmarks.servers`), so no memory figure includes a server's. Exit code 1 when a target
is missed. The parts: :mod:`benchmarks.peers` (the four clients), :mod:`benchmarks.one_upload`
(1 and 2), :mod:`benchmarks.handoff_burst`, :mod:`benchmarks.memory` (3); this module prints the
table and the verdict.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Final

from benchmarks.handoff_burst import (
    BURST,
    BURST_ROUNDS,
    BURST_SIZE,
    TARGET_BURST_RATIO,
    bench_burst,
)
from benchmarks.memory import RSS_SIZE, TARGET_RSS_DELTA, measure_rss, rss_child
from benchmarks.one_upload import bench_size
from benchmarks.peers import MB, make_clients, raw_args
from benchmarks.servers import endpoint_process, serve, serve_sink

# (size, repetitions): 100 MB has no ratio target, and over TLS each round moves 400 MB.
SIZES: Final = ((1 * MB, 81), (10 * MB, 41), (100 * MB, 3))
# A 100 MB recording arrives as a file, never as one bytes object (and boto3's put_object of
# 100 MB bytes over TLS takes seconds a round: the run would double).
BYTES_SIZES: Final = (1 * MB, 10 * MB)
TARGET_RATIO: Final = 1.05  # against boto3 doing the same work
TARGET_PEER_RATIO: Final = 1.10  # against the faster of boto3's and minio-py's defaults
RATIO_SIZES: Final = (1 * MB, 10 * MB)


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
