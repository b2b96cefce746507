"""Where the live integration tests run: a *target* (an endpoint, a bucket, the stack's identities).

Two kinds of target, one set of tests:

- **embedded** (default): the stack is rendered fresh (:func:`infra.render.render_stack`, so a
  change to a policy file is what the tests see), the embedded S3+IAM endpoint is reset and
  provisioned from that render (:mod:`devtools.provision`), and the tests act as the provisioned
  service accounts. Every test runs once per stack (``dev``, ``prod``).
- **minio**: when ``MINIO_TEST_ENDPOINT``, ``MINIO_TEST_ACCESS_KEY`` and ``MINIO_TEST_SECRET_KEY``
  are set, the tests run against that server as it is (provisioned by ``pulumi up -s dev``), with
  no provisioner. The reader's keys (``MINIO_TEST_READER_ACCESS_KEY``/``_SECRET_KEY``) and the
  admin's (``MINIO_TEST_ADMIN_ACCESS_KEY``/``_SECRET_KEY``) are optional: tests that need them skip
  and say which variable to set. ``MINIO_TEST_BUCKET`` and ``MINIO_TEST_USE_SSL`` are optional;
  ``MINIO_TEST_CA_BUNDLE`` names the PEM file of the CA that signed a TLS server's certificate
  (the system's CAs otherwise); ``MINIO_TEST_STACK`` (default ``dev``) names the stack whose
  render the server should match.

The embedded endpoint serves TLS, as production does: its throwaway CA is the target's bundle.

The targets themselves (:class:`tests.support.Target`, the ``MINIO_TEST_*`` names) are in
``tests/support.py``, which tests import; this file holds only the fixtures.

The fixtures are module-scoped (one reset and one provisioning per test file and stack); with
``pytest -n 2 --dist loadfile`` each file stays in one worker, whose ``embedded_s3`` it uses.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from typing import Final

import pytest

from devtools.embedded_s3 import EmbeddedS3
from infra.render import render_stack
from tests.support import (
    EMBEDDED_STACKS,
    PUBLIC_OVERRIDES,
    Target,
    embedded_target,
    minio_target,
    real_minio_configured,
)

TARGETS: Final = ["minio"] if real_minio_configured() else list(EMBEDDED_STACKS)


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Target:
    """The stack under test: each embedded stack provisioned fresh, or the real MinIO."""
    if request.param == "minio":
        return minio_target()
    endpoint: EmbeddedS3 = request.getfixturevalue("embedded_s3")
    return embedded_target(endpoint, f"embedded:{request.param}", render_stack(request.param))


@pytest.fixture(scope="module")
def public_target(request: pytest.FixtureRequest) -> Target:
    """The ``dev`` stack with the opt-in to anonymous recordings, provisioned on the embedded
    endpoint (a real MinIO is tested as deployed: its stack is not public by default)."""
    if real_minio_configured():
        pytest.skip(
            "the opt-in public render is provisioned on the embedded endpoint only; for a real "
            "MinIO, deploy it (`pulumi up -s dev --config voice-recordings:publicRecordings=true "
            "--config voice-recordings:acknowledgePublicRecordings=true`) and check by hand"
        )
    endpoint: EmbeddedS3 = request.getfixturevalue("embedded_s3")
    return embedded_target(endpoint, "embedded:dev+public", render_stack("dev", PUBLIC_OVERRIDES))


@pytest.fixture(scope="module")
def company_id() -> int:
    """A company of its own per test module, so runs on a shared real server never collide."""
    return 1_000_000 + secrets.randbelow(1_000_000_000)


@pytest.fixture
def call_uuid() -> str:
    """A fresh call id."""
    return f"it-{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="module")
def other_bucket(target: Target) -> Iterator[str]:
    """A bucket that is not the stack's, holding one object (created when the admin is known)."""
    name = f"{target.bucket}-other"
    if target.admin_keys is not None:
        s3 = target.s3(target.admin_keys)
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="company_1/voice/secret.mp3", Body=b"not yours")
    yield name
