"""``make engine``: the Pulumi CLI, engine and Python language host this repository runs.

The CLI and engine are Pulumi's own Go modules (``github.com/pulumi/pulumi/pkg/v3``'s
``cmd/pulumi``, Apache-2.0), pinned in ``tools/engine/go.mod`` at the version of the ``pulumi`` pin
in ``constraints.txt`` (one pin: the Python SDK, the CLI the workflows install, this build; a
test holds them equal). The Python language host is ``tools/engine/cmd/pulumi-language-python``,
ours, because the module proxy serves Pulumi's at no version; beside it goes the SDK's executor
script ``pulumi-language-python-exec``, taken from the ``sdk/v3`` module at the pin.

The build goes to a cache outside the clone, keyed by the pin and a hash of ``tools/engine``
(``$VOICE_RECORDINGS_ENGINE_CACHE``, default ``$XDG_CACHE_HOME/voice-recordings/engine``), and is
skipped when that build is there. A ``pulumi`` on PATH that reports the pinned version is used
instead, with the language host it ships.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from devtools.engine import go_build
from infra.project import REPOSITORY

MODULE_DIR: Final = REPOSITORY / "tools" / "engine"
CONSTRAINTS: Final = REPOSITORY / "constraints.txt"
PKG_MODULE: Final = "github.com/pulumi/pulumi/pkg/v3"
SDK_MODULE: Final = "github.com/pulumi/pulumi/sdk/v3"
CLI: Final = "pulumi"
LANGUAGE_HOST: Final = "pulumi-language-python"
EXECUTOR: Final = "pulumi-language-python-exec"
EXECUTABLES: Final = (CLI, LANGUAGE_HOST, EXECUTOR)
# Pulumi's release build (its .goreleaser.yml): static, reproducible, the version stamped in
# (without it the version is empty and the engine skips plugin version checks).
BUILD_TAGS: Final = "osusergo,grpcnotrace"
VERSION_SYMBOL: Final = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
COLD_BUILD_NOTE: Final = "about 5 minutes on 2 cores, 270 MB of Go modules to download"


class EngineError(RuntimeError):
    """The engine cannot be built or found; the message says what to do."""


def pinned_version() -> str:
    """The one Pulumi pin, ``constraints.txt``'s ``pulumi==X.Y.Z``, as ``vX.Y.Z``."""
    found = re.search(r"^pulumi==([0-9.]+)$", CONSTRAINTS.read_text(encoding="utf-8"), re.M)
    if found is None:
        raise EngineError(f"{CONSTRAINTS} pins no pulumi==X.Y.Z")
    return f"v{found[1]}"


def go_module_version(module: str) -> str:
    """The version ``tools/engine/go.mod`` requires of ``module``."""
    found = go_build.required_version(MODULE_DIR, module)
    if found is None:
        raise EngineError(f"tools/engine/go.mod requires no {module}")
    return found


def cache_root() -> Path:
    """Where builds are kept, outside the clone."""
    configured = os.environ.get("VOICE_RECORDINGS_ENGINE_CACHE")
    return Path(configured) if configured else go_build.cache_root("engine")


def build_dir() -> Path:
    """The directory this pin and this ``tools/engine`` build into."""
    return cache_root() / f"{pinned_version()}-{go_build.source_hash(MODULE_DIR)}"


def _version_of(executable: str | Path) -> str | None:
    try:
        done = subprocess.run(
            [str(executable), "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _on_path() -> Path | None:
    found = shutil.which(CLI)
    if found and _version_of(found) == pinned_version():
        return Path(found).resolve().parent
    return None


def locate() -> Path | None:
    """The directory of the pinned ``pulumi`` and its language host, or None if not built."""
    built = build_dir()
    if all((built / name).exists() for name in EXECUTABLES):
        return built
    return _on_path()


def build() -> Path:
    """Build the pinned CLI and the language host into the cache (nothing when they are there);
    the directory that holds them."""
    version = pinned_version()
    for module in (PKG_MODULE, SDK_MODULE):
        if go_module_version(module) != version:
            raise EngineError(
                f"tools/engine/go.mod requires {module} {go_module_version(module)}, but the pin "
                f"(constraints.txt) is pulumi=={version[1:]}: move both"
            )
    found = locate()
    if found is not None:
        return found
    target = build_dir()
    print(
        f"Building the Pulumi CLI {version} and the Python language host from Go modules into "
        f"{target} (first time only: {COLD_BUILD_NOTE}) ...",
        file=sys.stderr,
        flush=True,
    )

    def add_executor(staging: Path) -> None:
        sdk_dir = Path(go_build.go(MODULE_DIR, "list", "-m", "-f", "{{.Dir}}", SDK_MODULE))
        executor = staging / EXECUTOR
        shutil.copyfile(sdk_dir / "python" / "cmd" / EXECUTOR, executor)
        executor.chmod(0o755)
        if _version_of(staging / CLI) != version:
            raise EngineError(f"the built pulumi does not report {version}")

    try:
        built = go_build.build_into(
            target,
            MODULE_DIR,
            ((f"{PKG_MODULE}/cmd/pulumi", CLI), (f"./cmd/{LANGUAGE_HOST}", LANGUAGE_HOST)),
            flags=("-tags", BUILD_TAGS, "-ldflags", f"-s -w -X {VERSION_SYMBOL}={version}"),
            finish=add_executor,
        )
    except go_build.GoBuildError as exc:
        raise EngineError(str(exc)) from exc
    print(f"Built in {built.line()}.", file=sys.stderr, flush=True)
    return target


def main() -> int:
    """Build (or find) the engine and print its directory (the only line on stdout, for
    ``PATH="$(python -m devtools.engine):$PATH"``; a build's progress goes to stderr)."""
    try:
        print(build())
    except EngineError as exc:
        print(f"make engine: {exc}", file=sys.stderr)
        return 1
    return 0
