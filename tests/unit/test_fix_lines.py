"""Every ``Fix:`` line is the one for the cause that prints it (issue 26.9): a table from cause
to the exact fix, over every fix the diagnostics know, and ``check`` on a hung server (silence
is not a certificate problem: no ``MINIO_CA_BUNDLE`` advice).
"""

from __future__ import annotations

import io
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    FlexibleChecksumError,
    NoCredentialsError,
    ReadTimeoutError,
)

from devtools.stalling_servers import StallingServer
from voice_recordings import MinioUploader, StorageSettings, checks, cli, diagnostics
from voice_recordings.answers import NotS3Answer
from voice_recordings.checks import FIX_PUBLIC_URL
from voice_recordings.diagnostics import (
    FIX_ACCESS_DENIED,
    FIX_CREDENTIALS,
    FIX_MISSING_BUCKET,
    FIX_NOT_S3,
    FIX_SSL,
    FIX_SSL_EXPIRED,
    FIX_SSL_HOSTNAME,
    FIX_TIMEOUT,
    FIX_UNREACHABLE,
    Diagnosis,
    diagnose,
    diagnose_connection,
)
from voice_recordings.settings import Env
from voice_recordings.spool_directory import SPOOL_FIX


def _client_error(code: str, status: int = 400) -> ClientError:
    answer: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(answer, "PutObject")


def _verify_error(code: int) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = code
    return error


# Each cause, and the exact fix line it must print.
TABLE: dict[str, tuple[Callable[[], Diagnosis], str]] = {
    "bad key": (lambda: diagnose(_client_error("InvalidAccessKeyId", 403)), FIX_CREDENTIALS),
    "no keys": (lambda: diagnose(NoCredentialsError()), FIX_CREDENTIALS),
    "access denied": (lambda: diagnose(_client_error("AccessDenied", 403)), FIX_ACCESS_DENIED),
    "no bucket": (lambda: diagnose(_client_error("NoSuchBucket", 404)), FIX_MISSING_BUCKET),
    "server error": (lambda: diagnose(_client_error("InternalError", 500)), FIX_UNREACHABLE),
    "refused": (
        lambda: diagnose(EndpointConnectionError(endpoint_url="https://x")),
        FIX_UNREACHABLE,
    ),
    "read timeout": (
        lambda: diagnose(ReadTimeoutError(endpoint_url="https://x")),
        FIX_UNREACHABLE,
    ),
    "not s3": (lambda: diagnose(NotS3Answer(detail="no ETag")), FIX_NOT_S3),
    "bytes not the checksum's": (
        lambda: diagnose(FlexibleChecksumError(error_msg="mismatch")),
        FIX_NOT_S3,
    ),
    "untrusted certificate": (lambda: diagnose(_verify_error(20)), FIX_SSL),
    "expired certificate": (lambda: diagnose(_verify_error(10)), FIX_SSL_EXPIRED),
    "another host's certificate": (lambda: diagnose(_verify_error(62)), FIX_SSL_HOSTNAME),
    "silence": (lambda: diagnose_connection(TimeoutError("timed out")), FIX_TIMEOUT),
    "connection reset": (lambda: diagnose_connection(ConnectionResetError()), FIX_UNREACHABLE),
}


@pytest.mark.parametrize("cause", sorted(TABLE))
def test_each_cause_prints_its_own_fix(cause: str) -> None:
    make, fix = TABLE[cause]
    assert make().fix == fix


def test_the_table_covers_every_fix_the_diagnostics_know() -> None:
    known = {value for name, value in vars(diagnostics).items() if name.startswith("FIX_")}
    assert known == {fix for _, fix in TABLE.values()}


@pytest.mark.parametrize(("tls", "step"), [(True, "tls"), (False, "health")])
def test_check_on_a_hung_server_advises_the_endpoint_not_the_ca_bundle(
    tls: bool, step: str, tmp_path: Path
) -> None:
    with StallingServer("black-hole") as server:
        env = {
            Env.ENDPOINT: server.endpoint,
            Env.USE_SSL: "true" if tls else "false",
            Env.ACCESS_KEY: "AKIAEXAMPLE",
            Env.SECRET_KEY: "unit-test-secret-not-real",
            Env.MAX_ATTEMPTS: "1",
            Env.CONNECT_TIMEOUT: "0.3",
            Env.READ_TIMEOUT: "0.3",
            Env.SPOOL_DIR: str(tmp_path),
        }
        out = io.StringIO()
        assert cli.main(["check"], env, out) == cli.EXIT_FAILED
    text = out.getvalue()
    (line,) = [line for line in text.splitlines() if line.split()[1:2] == [step]]
    assert line.startswith("FAIL") and line.endswith(f"Fix: {FIX_TIMEOUT}"), text
    assert "MINIO_CA_BUNDLE" not in text


def test_check_on_a_closed_port_advises_the_endpoint(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    env = {
        Env.ENDPOINT: f"127.0.0.1:{port}",
        Env.USE_SSL: "true",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.CONNECT_TIMEOUT: "0.3",
        Env.SPOOL_DIR: str(tmp_path),
    }
    out = io.StringIO()
    assert cli.main(["check"], env, out) == cli.EXIT_FAILED
    assert f"Fix: {FIX_UNREACHABLE}" in out.getvalue()
    assert "MINIO_CA_BUNDLE" not in out.getvalue()


def _closed_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return int(unused.getsockname()[1])


def _check_line(step: Callable[[checks.CheckContext], checks.CheckResult], **extra: Any) -> str:
    settings = StorageSettings(
        endpoint=f"127.0.0.1:{_closed_port()}",
        access_key="AKIAEXAMPLE",
        secret_key="unit-test-secret-not-real",
        use_ssl=False,
        read_timeout=0.5,
        **extra,
    )
    uploader = MinioUploader(settings)
    try:
        return str(step(checks.CheckContext.for_settings(settings, uploader)))
    finally:
        uploader.close()


def test_check_steps_print_their_own_fix(tmp_path: Path) -> None:
    """The fixes `check` prints itself, each from the cause that prints it."""
    a_file = tmp_path / "not-a-directory"
    a_file.write_text("")
    cases = {
        # MINIO_PUBLIC_URL where nothing answers: the URL does not play.
        FIX_PUBLIC_URL: _check_line(
            checks._check_presigned, public_url=f"http://127.0.0.1:{_closed_port()}"
        ),
        # A file where the spool should be.
        SPOOL_FIX: _check_line(checks._check_spool, spool_dir=a_file),
        # Nothing listens on the endpoint's port.
        FIX_UNREACHABLE: _check_line(checks._check_tcp),
    }
    for fix, line in cases.items():
        assert line.startswith("FAIL") and line.endswith(f"Fix: {fix}"), line
