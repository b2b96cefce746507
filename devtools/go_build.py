"""Building Go executables of ours into a cache outside the clone, once per source state.

Shared by ``make engine`` (:mod:`devtools.engine`) and ``make provider``
(:mod:`devtools.provider_plugin`): a build directory is keyed by a pin and a hash of the Go
module's files, is made in a staging directory and renamed into place whole (a half build is
never "there"), and says what it is doing every 30 s while Go works.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path


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


def _heartbeat(started: float, done: threading.Event) -> None:
    while not done.wait(30):
        print(f"  ... still building ({time.monotonic() - started:.0f} s)", flush=True)


def build_into(
    target: Path,
    module_dir: Path,
    packages: Sequence[tuple[str, str]],
    *,
    flags: Sequence[str] = (),
    finish: Callable[[Path], None] | None = None,
) -> float:
    """``go build -trimpath <flags> -o <name> <package>`` for each (package, name) of
    ``module_dir``, into ``target`` (replaced whole); ``finish`` may add to or check the staging
    directory first. The seconds it took."""
    if shutil.which("go") is None:
        raise GoBuildError("building needs Go (go1.26 or later) on PATH")
    started = time.monotonic()
    done = threading.Event()
    threading.Thread(target=_heartbeat, args=(started, done), daemon=True).start()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="building-", dir=target.parent))
    try:
        for package, name in packages:
            go(module_dir, "build", "-trimpath", *flags, "-o", str(staging / name), package)
        if finish is not None:
            finish(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        done.set()
        shutil.rmtree(staging, ignore_errors=True)
    return time.monotonic() - started
