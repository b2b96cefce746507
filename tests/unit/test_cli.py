"""``voice-recordings`` without a storage server: exit codes, URLs, TLS check, progress."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import ipaddress
import socket
import ssl
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import ROOT
from voice_recordings import MinioUploader, cli
from voice_recordings.cli import checks
from voice_recordings.cli.progress import ProgressPrinter
from voice_recordings.diagnostics import FIX_SSL
from voice_recordings.settings import MISSING_KEYS_MESSAGE, Env, StorageSettings

ENV = {
    Env.ENDPOINT: "127.0.0.1:9",  # nothing listens: these commands must not need the server
    Env.ACCESS_KEY: "AKIAEXAMPLEUPLOADER",
    Env.SECRET_KEY: "unit-test-secret-not-real",
    Env.USE_SSL: "false",
    Env.SPOOL_DIR: "off",
}
KEY = "company_5/voice/2026/01/15/abc-123.mp3"


def run(argv: list[str], env: dict[str, str] = ENV) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(argv, env, out), out.getvalue()


def test_version_is_pyprojects_as_installed(capsys: pytest.CaptureFixture[str]) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"], ENV)
    assert exited.value.code == cli.EXIT_OK
    assert capsys.readouterr().out == f"voice-recordings {declared}\n"
    script = Path(sys.executable).with_name("voice-recordings")
    done = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == f"voice-recordings {declared}\n"


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["upload", "call.mp3", "--call", "abc"], ENV)  # --company missing
    assert exited.value.code == cli.EXIT_USAGE
    with pytest.raises(SystemExit) as exited:
        cli.main([], ENV)
    assert exited.value.code == cli.EXIT_USAGE


def test_missing_settings_exit_2_with_the_specification_message() -> None:
    code, output = run(["check"], {Env.ENDPOINT: "storage.netplay.net.br"})
    assert code == cli.EXIT_USAGE and MISSING_KEYS_MESSAGE in output


def test_url_prints_a_presigned_url_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(["url", KEY, "--expires", "600"])
    assert code == cli.EXIT_OK
    assert output.startswith(f"http://127.0.0.1:9/voice-recordings/{KEY}?")
    assert "X-Amz-Expires=600" in output and ENV[Env.SECRET_KEY] not in output
    # It could not ask the server whether the key is stored: it says so, beside the URL.
    assert capsys.readouterr().err.startswith(f"WARN url: could not check that {KEY} is stored")


def test_url_in_public_mode_is_the_public_form() -> None:
    env = {**ENV, Env.URL_MODE: "public", Env.PUBLIC_URL: "https://storage.example.org"}
    assert run(["url", KEY], env) == (0, f"https://storage.example.org/voice-recordings/{KEY}\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["url", "company_5/../company_6/voice/x.mp3"],
        ["url", KEY, "--expires", str(8 * 24 * 3600)],  # beyond the 7-day signature limit
    ],
)
def test_bad_url_requests_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv)[0] == cli.EXIT_USAGE
    assert capsys.readouterr().err  # says why


def test_upload_refuses_an_invalid_company_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "call.mp3"
    recording.write_bytes(b"audio")
    code, _ = run(["upload", str(recording), "--company", "0", "--call", "abc"])
    assert code == cli.EXIT_USAGE and "company_id" in capsys.readouterr().err


def test_upload_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, _ = run(["upload", str(tmp_path / "nope.mp3"), "--company", "5", "--call", "abc"])
    assert code == cli.EXIT_USAGE


def test_replay_with_the_spool_off_says_so() -> None:
    code, output = run(["replay"])
    assert code == cli.EXIT_OK and "disabled" in output


def test_progress_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = ProgressPrinter("uploading call.mp3", 4 * 1024 * 1024, stream)
    progress(1024 * 1024)
    progress(3 * 1024 * 1024)
    progress.finish()
    assert stream.getvalue().splitlines()[-1] == "uploading call.mp3: 4.0 MiB of 4.0 MiB (100%)"


# -- the TLS check against a local TLS server with a self-signed certificate -------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A loopback TLS listener that completes handshakes (no HTTP): (port, its certificate)."""
    cert_path, key_path = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], cert_path
    stop.set()
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once (Linux)
    listener.close()
    thread.join(timeout=5)


def tls_settings(port: int, ca_bundle: str | None = None) -> StorageSettings:
    return StorageSettings(
        endpoint=f"127.0.0.1:{port}",
        access_key="a",
        secret_key="s",
        use_ssl=True,
        ca_bundle=ca_bundle,
        connect_timeout=2,
    )


def test_an_untrusted_certificate_fails_with_the_ssl_fix(tls_server: tuple[int, Path]) -> None:
    port, _ = tls_server
    result = checks.check_tls(tls_settings(port), "127.0.0.1", port)
    assert result.status == "FAIL"
    assert "SSL Certificate Error" in result.detail and FIX_SSL in result.detail


def test_a_certificate_trusted_through_the_ca_bundle_passes(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server
    result = checks.check_tls(tls_settings(port, str(cert)), "127.0.0.1", port)
    assert result.status == "OK" and "valid until" in result.detail


@pytest.mark.parametrize("command", [["replay"], ["check"], ["erase", "--company", "5"]])
def test_ctrl_c_is_one_line_and_exit_130(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object, **__: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(MinioUploader, "__init__", interrupted)
    env = {
        "MINIO_ENDPOINT": "127.0.0.1:9",
        "MINIO_ACCESS_KEY": "AKIAEXAMPLE",
        "MINIO_SECRET_KEY": "unit-test-secret-not-real",
        "MINIO_SPOOL_DIR": "off",
    }
    assert cli.main(command, env, io.StringIO()) == cli.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("interrupted:"), err
