"""Where the live integration tests run: a *target* (an endpoint, a bucket, the stack's identities).

Two kinds of target, one set of tests, one way to deploy (``pulumi up``) and one way to name the
result (the ``MINIO_TEST_*`` variables, :func:`tests.support.target_from_env`):

- **embedded** (default): each stack (``dev``, ``prod``) is deployed by the real engine's
  ``pulumi up`` on an embedded S3+IAM endpoint of its own, once per session and worker
  (:class:`tests.deployments.Deployments`), and the target is what ``pulumi stack output``
  says, as for a real MinIO (:func:`tests.support.deployed_target`). Every test runs once per
  stack. The tests write under a company of their own (``company_id``), so modules share a
  deployment as they share a real server.
- **minio**: when ``MINIO_TEST_ENDPOINT``, ``MINIO_TEST_ACCESS_KEY`` and ``MINIO_TEST_SECRET_KEY``
  are set, the tests run against that server as it is (deployed by ``pulumi up -s dev``). The
  reader's keys (``MINIO_TEST_READER_ACCESS_KEY``/``_SECRET_KEY``) and the admin's
  (``MINIO_TEST_ADMIN_ACCESS_KEY``/``_SECRET_KEY``) are optional: tests that need them skip and
  say which variable to set. ``MINIO_TEST_BUCKET`` and ``MINIO_TEST_USE_SSL`` are optional;
  ``MINIO_TEST_CA_BUNDLE`` names the PEM file of the CA that signed a TLS server's certificate
  (the system's CAs otherwise); ``MINIO_TEST_STACK`` (default ``dev``) names the stack whose
  render the server should match.

The embedded endpoints serve TLS, as production does: their throwaway CA is the target's bundle.

The targets themselves (:class:`tests.support.Target`, the ``MINIO_TEST_*`` names) are in
``tests/support.py``, which tests import; this file holds only the fixtures.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.deployments import Deployment, Deployments
from tests.support import (
    EMBEDDED_STACKS,
    Target,
    deployed_target,
    minio_target,
    real_minio_configured,
)

TARGETS: Final = ["minio"] if real_minio_configured() else list(EMBEDDED_STACKS)


@pytest.fixture(scope="session")
def deployments(
    engine_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployments]:
    """This worker's deployed stacks, each deployed on first use and kept for the session."""
    with contextlib.closing(
        Deployments(engine_dir, tmp_path_factory.mktemp("deployments"))
    ) as made:
        yield made


@pytest.fixture(scope="module")
def dev_deployment(deployments: Deployments) -> Deployment:
    """The ``dev`` stack after ``pulumi up`` on its embedded endpoint."""
    return deployments["dev"]


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Target:
    """The stack under test: each embedded stack as deployed, or the real MinIO."""
    if request.param == "minio":
        return minio_target()
    found: Deployments = request.getfixturevalue("deployments")
    return deployed_target(found[request.param])


@pytest.fixture(scope="module")
def public_target(request: pytest.FixtureRequest) -> Target:
    """The ``dev`` stack with the opt-in to anonymous recordings, deployed on an embedded
    endpoint (a real MinIO is tested as deployed: its stack is not public by default)."""
    if real_minio_configured():
        pytest.skip(
            "the opt-in public stack is deployed on the embedded endpoint only; for a real "
            "MinIO, deploy it (`pulumi up -s dev --config voice-recordings:publicRecordings=true "
            "--config voice-recordings:acknowledgePublicRecordings=true`) and check by hand"
        )
    found: Deployments = request.getfixturevalue("deployments")
    return deployed_target(found["dev+public"])


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
