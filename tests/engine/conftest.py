"""The real Pulumi engine on this repository's program: fixtures.

``engine_dir`` (``tests/conftest.py``) is the pinned CLI with its language host (``make
engine``); without it every engine test fails, saying how to build it. Each test module gets a
clean embedded endpoint and a throwaway workspace
(:class:`devtools.engine.workspace.EngineWorkspace`) with the bridged ``minio`` plugin (the real
Terraform bridge over our stand-in provider functions) and the stand-in ``random`` plugin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.workspace import (
    EngineWorkspace,
    admin_env,
)


@pytest.fixture(scope="module")
def endpoint(embedded_s3: EmbeddedS3) -> EmbeddedS3:
    """This worker's embedded endpoint, emptied for the module (a new admin, nothing else)."""
    embedded_s3.reset()
    return embedded_s3


@pytest.fixture(scope="module")
def workspace(
    engine_dir: Path, endpoint: EmbeddedS3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineWorkspace]:
    """A workspace whose runs hold the endpoint admin's keys as MINIO_USER / MINIO_PASSWORD,
    as the deploying job does."""
    yield EngineWorkspace(engine_dir, tmp_path_factory.mktemp("engine"), env=admin_env(endpoint))
