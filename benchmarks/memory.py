"""The peak memory an upload adds, measured in a fresh child process (Linux ``VmHWM``)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from benchmarks.pattern_stream import PatternStream
from benchmarks.peers import BUCKET, COMPANY, MB, make_clients

RSS_SIZE: Final = 200 * MB
TARGET_RSS_DELTA: Final = 64 * MB


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
