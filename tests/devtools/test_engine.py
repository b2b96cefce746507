"""``make engine``: one pin, built once into a cache outside the clone, and what it built."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools import engine, provider_plugin


def test_one_pin_for_the_sdk_the_cli_and_the_build() -> None:
    pin = engine.pinned_version()
    assert engine.go_module_version(engine.PKG_MODULE) == pin
    assert engine.go_module_version(engine.SDK_MODULE) == pin
    # The Python SDK the program runs with is the one installed from constraints.txt.
    assert f"v{importlib.metadata.version('pulumi')}" == pin


@pytest.fixture(scope="module")
def built() -> Path:
    """The engine ``make engine`` built (``make test`` builds it before the tests)."""
    found = engine.locate()
    if found is None:
        pytest.fail("the engine is not built: run `make engine`")
    return found


def test_the_build_is_outside_the_clone_and_reports_the_pin(built: Path) -> None:
    assert not built.resolve().is_relative_to(engine.REPOSITORY)
    for name in engine.EXECUTABLES:
        assert os.access(built / name, os.X_OK), name
    for executable, flag in ((engine.CLI, "version"), (engine.LANGUAGE_HOST, "-version")):
        done = subprocess.run(
            [str(built / executable), flag], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == engine.pinned_version()


@pytest.mark.parametrize("module", [engine, provider_plugin], ids=["engine", "provider"])
def test_each_go_build_does_nothing_when_it_is_there(module: Any) -> None:
    """``make engine`` and ``make provider`` only find a build that is there."""
    found = module.locate()
    if found is None:
        pytest.fail(f"not built: run `make {module.__name__.rsplit('_', 1)[-1]}`")
    # No Go on PATH: it can only succeed by finding the cached build.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    done = subprocess.run(
        [sys.executable, "-m", module.__name__],
        cwd=engine.REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(found)
    assert done.stderr == ""  # a cached no-op is quiet (`make demo` shows nothing for it)


def test_a_pin_that_moved_in_one_place_only_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "pinned_version", lambda: "v3.1.0")
    with pytest.raises(engine.EngineError, match="move both"):
        engine.build()
