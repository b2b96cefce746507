"""Time-to-spool: how long the end of a call waits when the storage server is up but useless.

    python -m benchmarks.handoff_deadline            (``make bench-handoff``)

Against two loopback servers (:mod:`devtools.fake_servers.stalling`): a *black hole* that accepts
TCP and never answers, and a *trickle* that answers one byte a second forever. Each run calls
``upload_audio`` with the settings from the environment's defaults (``MINIO_UPLOAD_DEADLINE``,
``MINIO_MAX_ATTEMPTS``, ``MINIO_READ_TIMEOUT`` ...; set one to try another value) on a 1 MB
recording given as bytes and as a stream (a pipe), and measures until the call returns its
(spooled) URL. It prints each figure, the worst, and its ratio to the deadline, with what the
same settings cost before the deadline existed (computed, not run: the trickle never ended).

It stops by itself: every upload runs in a thread given the deadline plus a margin; one that
does not return by then is reported and the exit code is 1 (also when the worst case exceeds
the deadline by more than TARGET_OVERSHOOT).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Final

from devtools.fake_servers.stalling import BEHAVIOURS, StallingServer
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.uploader import MinioUploader

MB: Final = 1024 * 1024
SIZE: Final = 1 * MB  # a few minutes of call audio at 32 kbit/s
# The deadline is a bound on the handoff: the worst case may pass it by this much at most
# (unwinding the request and writing the spool).
TARGET_OVERSHOOT: Final = 1.0
# botocore waits this long for "100 Continue" before sending the body anyway.
EXPECT_CONTINUE_WAIT: Final = 1.0


def settings_for(endpoint: str, spool_dir: Path) -> StorageSettings:
    """The service's settings (from the environment, defaults for what is unset), aimed at
    ``endpoint`` with a throwaway spool."""
    env = {
        **os.environ,
        Env.ENDPOINT: endpoint,
        Env.ACCESS_KEY: "AKIABENCHMARK",
        Env.SECRET_KEY: "benchmark-secret-not-real",
        Env.USE_SSL: "false",
        Env.SPOOL_DIR: str(spool_dir),
    }
    return StorageSettings.from_env(env)


class _Pipe(io.RawIOBase):
    """A non-seekable stream of ``size`` bytes (like the CLI reading a pipe)."""

    def __init__(self, size: int) -> None:
        self.remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.remaining)
        buffer[:n] = b"\x55" * n
        self.remaining -= n
        return n


def time_to_spool(uploader: MinioUploader, body: str, call: str, limit: float) -> float | None:
    """Seconds until ``upload_audio`` returned a spooled URL; None if it did not within
    ``limit`` (the thread is left behind as a daemon; the benchmark then fails)."""
    data: bytes | io.BufferedReader = (
        b"\x55" * SIZE if body == "bytes" else io.BufferedReader(_Pipe(SIZE))
    )
    outcome: list[float] = []
    errors: list[BaseException] = []

    def run() -> None:
        started = time.monotonic()
        try:
            result = uploader.upload_audio(
                data, call_uuid=call, company_id=5, when=dt.datetime.now(dt.UTC)
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
            return
        if result.spooled and result.size == SIZE:
            outcome.append(time.monotonic() - started)
        else:
            errors.append(AssertionError(f"not spooled whole: {result.spooled}, {result.size}"))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    if errors:
        raise errors[0]
    return outcome[0] if outcome else None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every upload was spooled within the deadline's bound."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per server and body")
    args = parser.parse_args(argv)
    # One warning line per spooled upload is the library's job, not this table's.
    logging.getLogger("voice_recordings").setLevel(logging.ERROR)

    failed = False
    figures: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as spool_root:
        probe = settings_for("127.0.0.1:9", Path(spool_root))
        deadline = probe.upload_deadline
        limit = deadline * 2 + 10
        print(
            f"settings: {Env.UPLOAD_DEADLINE}={deadline:g}s {Env.MAX_ATTEMPTS}="
            f"{probe.max_attempts} {Env.CONNECT_TIMEOUT}={probe.connect_timeout:g}s "
            f"{Env.READ_TIMEOUT}={probe.read_timeout:g}s; body {SIZE // MB} MB; "
            f"{args.repeat} run(s) each",
            flush=True,
        )
        for behaviour in BEHAVIOURS:
            with StallingServer(behaviour) as server:
                uploader = MinioUploader(settings_for(server.endpoint, Path(spool_root)))
                for body in ("bytes", "stream"):
                    runs = figures.setdefault((behaviour, body), [])
                    for number in range(args.repeat):
                        call = f"bench-{behaviour}-{body}-{number}"
                        seconds = time_to_spool(uploader, body, call, limit)
                        if seconds is None:
                            print(f"{behaviour:<10} {body:<6} DID NOT RETURN within {limit:g}s")
                            failed = True
                            continue
                        runs.append(seconds)
                        print(
                            f"{behaviour:<10} {body:<6} run {number + 1}: {seconds:6.2f}s",
                            flush=True,
                        )
                uploader.close()

    print()
    print(f"{'server':<10} {'body':<6} {'median':>8} {'worst':>8} {'worst/deadline':>15}")
    worst = 0.0
    for (server_name, body), runs in figures.items():
        if not runs:
            continue
        worst = max(worst, max(runs))
        print(
            f"{server_name:<10} {body:<6} {statistics.median(runs):7.2f}s {max(runs):7.2f}s "
            f"{max(runs) / deadline:14.2f}x"
        )
    # Before, MINIO_MAX_ATTEMPTS reached botocore as max_attempts, which counts retries: N + 1
    # requests, each waiting for 100-continue and then a full read timeout.
    before = (probe.max_attempts + 1) * (probe.read_timeout + EXPECT_CONTINUE_WAIT)
    print(
        f"\nworst case: {worst:.2f}s with {Env.UPLOAD_DEADLINE}={deadline:g}s "
        f"(bound: deadline + {TARGET_OVERSHOOT:g}s)"
    )
    print(
        f"before the deadline, the same settings cost a black hole about {before:.0f}s "
        f"({probe.max_attempts + 1} requests x ({probe.read_timeout:g}s read timeout + "
        f"{EXPECT_CONTINUE_WAIT:g}s for 100-continue), more with backoff) and a trickle forever"
    )
    if worst > deadline + TARGET_OVERSHOOT:
        print("TARGET MISSED: the handoff waited longer than the deadline allows")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
