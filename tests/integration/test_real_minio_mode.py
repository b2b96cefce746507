"""The real-MinIO path of the integration tests works by configuration alone.

No MinIO runs here, so this stands one in: the session's ``dev`` stack, deployed by ``pulumi up``
on an embedded endpoint, and a child pytest runs the live tests with only the ``MINIO_TEST_*``
variables pointing at it, each set from ``pulumi stack output`` as docs/developing.md's recipe
sets it (:func:`tests.support.deployment_env`), over TLS with the endpoint's CA named by
``MINIO_TEST_CA_BUNDLE``, as a server with a private CA. The child must take the ``minio``
target (nothing deployed, nothing reset), pass, and skip only what a MinIO cannot do (the AWS
IAM API) with a reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deployments import Deployment
from tests.support import ENDPOINT_VAR, SSL_VAR, deployment_env

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LIVE_TESTS = ("test_least_privilege.py", "test_bucket_configuration.py", "test_observer.py")
# Why a live test may skip on a MinIO target (anything else is a failure of this mode).
MINIO_SKIP_REASONS = (
    "MinIO serves no AWS IAM API",
    "the opt-in public stack is deployed on the embedded endpoint only",
    "a real MinIO enforces the admin actions itself",
)


def test_live_tests_run_against_a_server_named_only_by_the_environment(
    dev_deployment: Deployment,
) -> None:
    named = deployment_env(dev_deployment)
    assert named[SSL_VAR] == "true" and named[ENDPOINT_VAR] == dev_deployment.endpoint.endpoint
    env = {name: value for name, value in os.environ.items() if not name.startswith("MINIO_")}
    env.update({"PYTHONPATH": str(ROOT), **named})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "-rs",
            "-o",
            "addopts=",
            *(f"tests/integration/{name}" for name in LIVE_TESTS),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    results = [line for line in done.stdout.splitlines() if line.startswith("tests/")]
    # Every parametrized case ran on the minio target, none on an embedded stack.
    ids = [line.split(" ", 1)[0] for line in results]
    assert all("[minio" in test_id for test_id in ids if "[" in test_id), results
    assert not any("[dev" in line or "[prod" in line for line in results), results
    summary = done.stdout.strip().splitlines()[-1]
    assert "failed" not in summary and "error" not in summary
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 20, summary
    skipped_reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped_reasons, "the IAM cases must skip on a MinIO target"
    assert all(any(reason in line for reason in MINIO_SKIP_REASONS) for line in skipped_reasons), (
        skipped_reasons
    )
