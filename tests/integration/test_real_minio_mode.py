"""The real-MinIO path of the integration tests works by configuration alone.

No MinIO runs here, so this stands one in: the ``dev`` stack is provisioned on this process's
embedded endpoint, and a child pytest runs the live tests with only the ``MINIO_TEST_*`` variables
pointing at it, as a developer would after ``pulumi up -s dev`` (see docs/developing.md), over
TLS with the endpoint's CA named by ``MINIO_TEST_CA_BUNDLE``, as a server with a private CA. The
child must take the ``minio`` target (no provisioner, no reset), pass, and skip only what a MinIO
cannot do (the AWS IAM API) with a reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.embedded_s3 import EmbeddedS3
from infra.render import render_stack
from tests.support import (
    ADMIN_VARS,
    BUCKET_VAR,
    CA_BUNDLE_VAR,
    ENDPOINT_VAR,
    OBSERVER_VARS,
    READER_VARS,
    SSL_VAR,
    STACK_VAR,
    UPLOADER_VARS,
    embedded_target,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LIVE_TESTS = ("test_least_privilege.py", "test_bucket_configuration.py", "test_observer.py")
# Why a live test may skip on a MinIO target (anything else is a failure of this mode).
MINIO_SKIP_REASONS = (
    "MinIO serves no AWS IAM API",
    "the opt-in public render is provisioned on the embedded endpoint only",
    "a real MinIO enforces the admin actions itself",
)


def test_live_tests_run_against_a_server_named_only_by_the_environment(
    embedded_s3: EmbeddedS3,
) -> None:
    server = embedded_target(embedded_s3, "stand-in", render_stack("dev"))
    assert server.use_ssl and server.ca_bundle is not None
    env = {name: value for name, value in os.environ.items() if not name.startswith("MINIO_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            ENDPOINT_VAR: server.endpoint,
            SSL_VAR: "true",
            CA_BUNDLE_VAR: server.ca_bundle,
            STACK_VAR: "dev",
            BUCKET_VAR: server.bucket,
            UPLOADER_VARS[0]: server.uploader.access_key,
            UPLOADER_VARS[1]: server.uploader.secret_key,
            READER_VARS[0]: server.reader.access_key,
            READER_VARS[1]: server.reader.secret_key,
            ADMIN_VARS[0]: server.admin.access_key,
            ADMIN_VARS[1]: server.admin.secret_key,
            OBSERVER_VARS[0]: server.observer.access_key,
            OBSERVER_VARS[1]: server.observer.secret_key,
        }
    )
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
