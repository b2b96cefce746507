"""Building Go executables of ours into a cache outside the clone, once per source state.

Shared by ``make engine`` (:mod:`devtools.engine.pulumi_cli`) and ``make provider``
(:mod:`devtools.engine.minio_plugin`): a build directory is keyed by a pin and a hash of the Go
module's files, is made in a staging directory and renamed into place whole (a half build is
never "there"). A cold build downloads hundreds of modules and compiles thousands of packages for
minutes: ``go build -v`` names each as it goes, and a line on stderr every
:data:`PROGRESS_EVERY` seconds says how far it is (stdout stays the callers' for the build's
directory).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# Seconds between two progress lines while Go works.
PROGRESS_EVERY: Final = 15.0
# What `go build -v` prints: "go: downloading <module> <version>" for each module fetched, then
# the import path of each package it compiles; anything else is Go's own message (an error).
_DOWNLOADING: Final = re.compile(r"go: downloading \S+ \S+")
_PACKAGE: Final = re.compile(r"[\w.~+-]+(?:/[\w.~+-]+)*")
# Go's messages kept for an error (the end of a failed build's output).
_KEPT_LINES: Final = 200


class GoBuildError(RuntimeError):
    """A Go build or query failed; the message holds Go's own words."""


def cache_root(kind: str) -> Path:
    """``$XDG_CACHE_HOME/voice-recordings/<kind>`` (``~/.cache`` by default)."""
    state = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".cache"
    return base / "voice-recordings" / kind


def source_hash(module_dir: Path) -> str:
    """12 hex digits of SHA-256 over every file of ``module_dir`` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in module_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(module_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def required_version(module_dir: Path, module: str) -> str | None:
    """The version ``module_dir``'s ``go.mod`` requires of ``module`` (None: it requires none)."""
    text = (module_dir / "go.mod").read_text(encoding="utf-8")
    found = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", text, re.M)
    return found[1] if found else None


def go_env() -> dict[str, str]:
    """Static, reproducible builds that never change ``go.mod``."""
    return {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}


def go(module_dir: Path, *args: str) -> str:
    """``go <args>`` in ``module_dir``; its stdout, or :class:`GoBuildError`."""
    done = subprocess.run(
        ["go", *args], cwd=module_dir, env=go_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise GoBuildError(f"go {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class BuildProgress:
    """What a build has done so far: modules downloaded, packages compiled."""

    started: float
    modules: int = 0
    packages: int = 0

    def line(self) -> str:
        """``95 s: 120 Go modules downloaded, 340 packages compiled``."""
        return (
            f"{time.monotonic() - self.started:.0f} s: {self.modules} Go modules downloaded, "
            f"{self.packages} packages compiled"
        )


def _report_every(progress: BuildProgress, done: threading.Event) -> None:
    while not done.wait(PROGRESS_EVERY):
        print(f"  ... {progress.line()}", file=sys.stderr, flush=True)


def _go_build(module_dir: Path, args: Sequence[str], progress: BuildProgress) -> None:
    """``go build -v <args>`` in ``module_dir``, counting what it downloads and compiles;
    :class:`GoBuildError` with Go's own messages when it fails."""
    command = ["go", "build", "-v", *args]
    messages: deque[str] = deque(maxlen=_KEPT_LINES)
    with subprocess.Popen(
        command,
        cwd=module_dir,
        env=go_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        for raw in process.stdout or ():
            line = raw.rstrip("\n")
            if _DOWNLOADING.fullmatch(line):
                progress.modules += 1
            elif _PACKAGE.fullmatch(line):
                progress.packages += 1
            elif line:
                messages.append(line)
    if process.returncode != 0:
        raise GoBuildError(f"go {' '.join(command[1:])} failed:\n" + "\n".join(messages))


def build_into(
    target: Path,
    module_dir: Path,
    packages: Sequence[tuple[str, str]],
    *,
    flags: Sequence[str] = (),
    finish: Callable[[Path], None] | None = None,
) -> BuildProgress:
    """``go build -trimpath <flags> -o <name> <package>`` for each (package, name) of
    ``module_dir``, into ``target`` (replaced whole), saying how far it is on stderr; ``finish``
    may add to or check the staging directory first. What it did (its :meth:`~BuildProgress.line`
    sums it up)."""
    if shutil.which("go") is None:
        raise GoBuildError("building needs Go (go1.26 or later) on PATH")
    progress = BuildProgress(time.monotonic())
    done = threading.Event()
    threading.Thread(target=_report_every, args=(progress, done), daemon=True).start()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="building-", dir=target.parent))
    try:
        for package, name in packages:
            _go_build(
                module_dir, ["-trimpath", *flags, "-o", str(staging / name), package], progress
            )
        if finish is not None:
            finish(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        done.set()
        shutil.rmtree(staging, ignore_errors=True)
    return progress
