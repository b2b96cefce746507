"""Shared fixtures: one embedded S3+IAM endpoint per test process (moto's state is per process),
and the pinned Pulumi engine (``make engine``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.embedded_s3 import EmbeddedS3
from devtools.engine import locate, pinned_version


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
