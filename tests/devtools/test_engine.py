"""``make engine``: one pin, built once into a cache outside the clone, and what it built."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.engine import minio_plugin, pulumi_cli
from infra.project import REPOSITORY


def test_one_pin_for_the_sdk_the_cli_and_the_build() -> None:
    pin = pulumi_cli.pinned_version()
    assert pulumi_cli.go_module_version(pulumi_cli.PKG_MODULE) == pin
    assert pulumi_cli.go_module_version(pulumi_cli.SDK_MODULE) == pin
    # The Python SDK the program runs with is the one installed from constraints.txt.
    assert f"v{importlib.metadata.version('pulumi')}" == pin


@pytest.fixture(scope="module")
def built() -> Path:
    """The engine ``make engine`` built (``make test`` builds it before the tests)."""
    found = pulumi_cli.locate()
    if found is None:
        pytest.fail("the engine is not built: run `make engine`")
    return found


def test_the_build_is_outside_the_clone_and_reports_the_pin(built: Path) -> None:
    assert not built.resolve().is_relative_to(REPOSITORY)
    for name in pulumi_cli.EXECUTABLES:
        assert os.access(built / name, os.X_OK), name
    for executable, flag in ((pulumi_cli.CLI, "version"), (pulumi_cli.LANGUAGE_HOST, "-version")):
        done = subprocess.run(
            [str(built / executable), flag], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == pulumi_cli.pinned_version()


# Each build, the make target that runs it and the module that target runs.
GO_BUILDS = [
    (pulumi_cli, "engine", "devtools.engine"),
    (minio_plugin, "provider", minio_plugin.__name__),
]


@pytest.mark.parametrize(("module", "target", "command"), GO_BUILDS, ids=["engine", "provider"])
def test_each_go_build_does_nothing_when_it_is_there(
    module: Any, target: str, command: str
) -> None:
    """``make engine`` and ``make provider`` only find a build that is there."""
    found = module.locate()
    if found is None:
        pytest.fail(f"not built: run `make {target}`")
    # No Go on PATH: it can only succeed by finding the cached build.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    done = subprocess.run(
        [sys.executable, "-m", command],
        cwd=REPOSITORY,
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
    monkeypatch.setattr(pulumi_cli, "pinned_version", lambda: "v3.1.0")
    with pytest.raises(pulumi_cli.EngineError, match="move both"):
        pulumi_cli.build()
