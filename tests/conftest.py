"""Shared fixtures: one embedded S3+IAM endpoint per test process (moto's state is per process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devtools.embedded_s3 import EmbeddedS3


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
