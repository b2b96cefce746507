"""Shared fixtures: one embedded S3+IAM endpoint per test process (moto's state is per process),
and the pinned Pulumi engine (``make engine``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.pulumi_cli import locate, pinned_version


@pytest.fixture(scope="session")
def embedded_s3() -> Iterator[EmbeddedS3]:
    """A running endpoint with authentication on, over TLS, connections kept open (a TLS
    handshake per connection, not per request, as against MinIO); tests isolate themselves by
    bucket name."""
    with EmbeddedS3(authentication=True) as endpoint:
        yield endpoint


@pytest.fixture
def bucket(embedded_s3: EmbeddedS3) -> str:
    """A fresh, versioned-off bucket owned by the endpoint's admin."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    embedded_s3.s3().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def engine_dir() -> Path:
    """The directory of the pinned ``pulumi`` and its Python language host. Without it the test
    fails, saying how to build it (never a skip: ``make test`` builds it first, and CI must not
    pass a suite that did not run the engine)."""
    found = locate()
    if found is None:
        pytest.fail(
            f"the Pulumi engine {pinned_version()} is not built: run `make engine` (make test "
            f"does it first)"
        )
    return found


# The longest files first. `make test` hands out whole files to three workers in collection order
# (`--dist loadfile --no-loadscope-reorder`; xdist's default order, most tests first, put the
# engine's few long tests last, so one worker ran on alone for a minute). Files of a kind keep
# their order; a file's tests stay together (module fixtures).
LONGEST_FIRST: Final = (
    "tests/test_docs_commands.py",  # the sandbox tour: tens of pulumi commands
    "tests/engine/",  # each file deploys its own stack with the engine
    "tests/integration/",  # pulumi up per worker, then live calls
    "tests/devtools/",
    "tests/guardrails/",
)


def _cost_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    found = [n for n, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)]
    return found[0] if found else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the collection longest kind first (stable: files stay whole and in order)."""
    items.sort(key=_cost_rank)
