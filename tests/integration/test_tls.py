"""Production's transport: the runtime package over TLS, through its public interfaces.

The embedded endpoint serves HTTPS with a certificate from a throwaway CA
(devtools/endpoint/tls.py); the settings carry that CA as ``MINIO_CA_BUNDLE``. Each certificate
problem a deployment can meet is staged on the same endpoint: a client without the CA (the
specification's "SSL Certificate Error", fixed by adding the CA), a certificate for another host,
one about to expire (:meth:`EmbeddedS3.serving_certificate` presents it to new connections, as a
server whose certificate was replaced).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from devtools.endpoint.embedded_s3 import EmbeddedS3
from tests.support import GeneratedStream
from voice_recordings import MinioUploader, StorageSettings, cli, get_minio_uploader
from voice_recordings.checksums import UPLOAD_CHECKSUM
from voice_recordings.cli import checks
from voice_recordings.diagnostics import (
    FIX_SSL,
    FIX_SSL_EXPIRED,
    FIX_SSL_HOSTNAME,
    SSL_SUMMARY,
)
from voice_recordings.settings import Env
from voice_recordings.transfer import MULTIPART_CHUNK

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
AUDIO = b"ID3" + bytes(range(256)) * 40
AFTER_TLS = ("health", "credentials", "bucket", "put", "get", "presigned-url")
# (the host MINIO_ENDPOINT names, the names the server's certificate lists): never a match.
WRONG_HOSTS: list[tuple[str, tuple[str, ...]]] = [
    ("127.0.0.1", ("storage.example.org",)),
    ("127.0.0.1", ("localhost",)),
    ("127.0.0.1", ("127.0.0.2", "storage.netplay.net.br")),
    ("localhost", ("127.0.0.1",)),
]


def env_for(
    endpoint: EmbeddedS3, bucket: str, spool: Path, host: str = "127.0.0.1", **extra: str
) -> dict[str, str]:
    """The service's MINIO_* environment for the endpoint (with its CA unless removed)."""
    env = endpoint.env(bucket=bucket)
    env[Env.ENDPOINT] = env[Env.ENDPOINT].replace("127.0.0.1", host)
    env.update({Env.SPOOL_DIR: str(spool), Env.MAX_ATTEMPTS: "1", Env.CONNECT_TIMEOUT: "2"})
    env.update(extra)
    return env


def check(env: dict[str, str]) -> tuple[int, dict[str, tuple[str, str]]]:
    """``voice-recordings check``: the exit code and name -> (status, detail)."""
    out = io.StringIO()
    code = cli.main(["check"], env, out)
    lines = [line.split(maxsplit=2) for line in out.getvalue().splitlines() if line.strip()]
    return code, {parts[1]: (parts[0], parts[2] if len(parts) > 2 else "") for parts in lines}


def without_ca(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name != Env.CA_BUNDLE}


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name.startswith("voice_recordings") and r.levelno >= logging.WARNING
    ]


def test_upload_from_the_environment_and_play_the_presigned_https_url(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    env = env_for(embedded_s3, bucket, tmp_path / "spool")
    assert env[Env.USE_SSL] == "true" and Path(env[Env.CA_BUNDLE]).is_file()
    uploader = get_minio_uploader(env)

    result = uploader.upload_audio(AUDIO, call_uuid="tls-play", company_id=5, when=WHEN)

    assert not result.spooled
    assert str(result).startswith(f"https://{embedded_s3.endpoint}/{bucket}/")
    played = requests.get(str(result), timeout=10, verify=env[Env.CA_BUNDLE])
    assert played.status_code == 200 and played.content == AUDIO
    # The same URL in a client that trusts only the system's CAs: refused, not played.
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(str(result), timeout=10, verify=True)
    uploader.close()


@pytest.mark.parametrize("shape", ["bytes", "file", "stream"])
def test_over_tls_the_body_is_hashed_once_for_its_checksum_not_again_for_the_signature(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path, shape: str
) -> None:
    # The checksum in a header (which the server verifies) makes a signed payload a second pass
    # over every byte, on both sides; botocore skips it once it knows the header. One checksum
    # per request (the upload path's), for a PUT and for each part of a multipart upload.
    uploader = get_minio_uploader(env_for(embedded_s3, bucket, tmp_path / "spool"))
    sent: list[tuple[bytes, list[str]]] = []

    def capture(request: Any, **_: Any) -> None:
        checksums = [k.lower() for k in request.headers if k.lower().startswith("x-amz-checksum-")]
        sent.append((request.headers["X-Amz-Content-SHA256"], checksums))

    for operation in ("PutObject", "UploadPart"):
        uploader.client.meta.events.register(f"before-send.s3.{operation}", capture)
    body: bytes | IO[bytes] = AUDIO
    if shape == "file":
        body = io.BytesIO(AUDIO)
    elif shape == "stream":  # multipart: two parts
        body = io.BufferedReader(GeneratedStream(MULTIPART_CHUNK + 1024))
    result = uploader.upload_audio(body, call_uuid="tls-once", company_id=5, when=WHEN)
    assert not result.spooled
    assert sent == [(b"UNSIGNED-PAYLOAD", [UPLOAD_CHECKSUM.header])] * (
        2 if shape == "stream" else 1
    )
    uploader.close()


def test_check_passes_at_every_step_over_tls(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    # The admin may delete, so delete-denied fails here; the stack's uploader passes it in
    # test_cli_check.py. Every other step holds over TLS.
    _, found = check(env_for(embedded_s3, bucket, tmp_path / "spool"))

    assert found["tls"][0] == "OK" and "certificate trusted, valid until" in found["tls"][1]
    for name in ("dns", "tcp", "credentials", "bucket", "put", "get", "presigned-url"):
        assert found[name][0] == "OK", (name, found[name])
    assert f"plays from https://{embedded_s3.endpoint}" in found["presigned-url"][1]


def test_check_without_the_ca_fails_at_tls_with_the_specifications_fix(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    code, found = check(without_ca(env_for(embedded_s3, bucket, tmp_path / "spool")))

    assert code == cli.EXIT_FAILED
    status, detail = found["tls"]
    assert status == "FAIL" and detail.startswith(SSL_SUMMARY) and FIX_SSL in detail
    assert "unable to get local issuer certificate" in detail
    assert all(found[name][0] == "SKIP" for name in AFTER_TLS)
    assert found["spool"][0] == "OK"


@pytest.mark.parametrize(("host", "names"), WRONG_HOSTS)
def test_check_refuses_a_certificate_for_another_host(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path, host: str, names: Sequence[str]
) -> None:
    env = env_for(embedded_s3, bucket, tmp_path / "spool", host=host)
    with embedded_s3.serving_certificate(names=names):
        code, found = check(env)

    assert code == cli.EXIT_FAILED
    status, detail = found["tls"]
    assert status == "FAIL", found
    assert detail.startswith(f"{SSL_SUMMARY} (the certificate is for another host)")
    assert "mismatch" in detail and FIX_SSL_HOSTNAME in detail
    assert all(found[name][0] == "SKIP" for name in AFTER_TLS)


def test_check_refuses_an_expired_certificate_with_the_renewal_fix(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    env = env_for(embedded_s3, bucket, tmp_path / "spool")
    with embedded_s3.serving_certificate(validity=dt.timedelta(days=-2)):
        code, found = check(env)

    assert code == cli.EXIT_FAILED
    status, detail = found["tls"]
    assert status == "FAIL" and "certificate has expired" in detail
    assert detail.startswith(f"{SSL_SUMMARY} (the certificate has expired)")
    assert FIX_SSL_EXPIRED in detail


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, "WARN"), (checks.CERT_WARN_DAYS - 1, "WARN"), (checks.CERT_WARN_DAYS + 2, "OK")],
)
def test_check_warns_of_a_certificate_close_to_expiry(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path, days: int, expected: str
) -> None:
    env = env_for(embedded_s3, bucket, tmp_path / "spool")
    with embedded_s3.serving_certificate(validity=dt.timedelta(days=days)) as certificate:
        _, found = check(env)

    status, detail = found["tls"]
    assert status == expected, detail
    assert f"valid until {certificate.not_after:%Y-%m-%d}" in detail
    assert ("renew it soon" in detail) == (expected == "WARN")
    # A warning, not a failure: the steps after it still run, and pass.
    assert all(found[name][0] == "OK" for name in ("credentials", "bucket", "put", "get"))


@pytest.mark.parametrize(
    ("problem", "summary", "fix"),
    [
        ("no CA bundle", SSL_SUMMARY, FIX_SSL),
        (
            "certificate for another host",
            f"{SSL_SUMMARY} (the certificate is for another host)",
            FIX_SSL_HOSTNAME,
        ),
    ],
)
def test_a_certificate_problem_spools_with_one_line_naming_it_and_replay_delivers(
    embedded_s3: EmbeddedS3,
    bucket: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    problem: str,
    summary: str,
    fix: str,
) -> None:
    spool = tmp_path / "spool"
    good = env_for(embedded_s3, bucket, spool)
    caplog.set_level(logging.DEBUG)

    if problem == "no CA bundle":
        uploader = MinioUploader(StorageSettings.from_env(without_ca(good)))
        result = uploader.upload_audio(AUDIO, call_uuid="tls-spool", company_id=5, when=WHEN)
    else:
        uploader = MinioUploader(StorageSettings.from_env(good))
        with embedded_s3.serving_certificate(names=("storage.example.org",)):
            result = uploader.upload_audio(AUDIO, call_uuid="tls-spool", company_id=5, when=WHEN)
    uploader.close()

    assert result.spooled
    (line,) = our_warnings(caplog)
    message = line.getMessage()
    assert f"not stored ({summary})" in message and f"Fix: {fix}" in message
    assert "unreachable" not in message and "storage request failed" not in message

    # The fix applied (the CA trusted, the right certificate): the CLI's replay delivers.
    out = io.StringIO()
    assert cli.main(["replay"], good, out) == cli.EXIT_OK, out.getvalue()
    assert "uploaded 1," in out.getvalue() and "remaining 0" in out.getvalue()
    body = embedded_s3.s3().get_object(Bucket=bucket, Key=result.key)["Body"].read()
    assert body == AUDIO
