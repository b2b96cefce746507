"""The servers the upload benchmark runs against, each in a process of its own, over TLS.

The embedded endpoint (moto, :mod:`devtools.endpoint.embedded_s3`) and the sink
(:mod:`devtools.fake_servers.sink`, which answers every upload at once as S3 would and keeps
nothing) run in child processes with one malloc arena (:data:`SERVER_ENV`), so no memory figure
of the benchmark includes a server's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from benchmarks.peers import BUCKET

# The servers' processes, and only theirs: one glibc malloc arena. By default each of a threaded
# server's threads (one per kept-open connection, so one per client) may get an arena of its
# own, whose state (grown, trimmed, fragmented by 10 MB bodies) then differs from client to
# client for a whole run: the 10 MB same-work ratio of unchanged code swung from 0.98 to 1.15
# between runs (5 of 12 measurements over 1.05), one client's requests steadily slower than
# the other's. With one arena every connection meets the same allocator: 0.98 to 1.03 in 12
# (docs/developing.md, "Performance history"). Requests are sequential, so the one arena is never
# contended.
SERVER_ENV: Final = {"MALLOC_ARENA_MAX": "1"}


def serve() -> None:
    """Child: run the embedded endpoint, print its address and keys, stop when stdin closes."""
    from devtools.endpoint.embedded_s3 import EmbeddedS3

    # TLS, connections kept open (the defaults), as against MinIO.
    with EmbeddedS3() as endpoint:
        endpoint.s3().create_bucket(Bucket=BUCKET)
        print(json.dumps(endpoint.env(bucket=BUCKET)), flush=True)
        sys.stdin.read()


def serve_sink() -> None:
    """Child: run the sink (:mod:`devtools.fake_servers.sink`, TLS), print its environment, stop
    when stdin closes."""
    from devtools.fake_servers.sink import SinkS3

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
