"""``voice-recordings check``'s steps: the specification's troubleshooting, one line each.

Each step is a small function declared in :data:`STEPS` with the steps it needs; a step whose
need failed (or was skipped for that reason) is skipped, in one place (:func:`run_checks`), with
"needs the checks above". The order: dns, tcp, tls, health, credentials, bucket, put, get,
presigned-url, delete-denied, spool (which needs nothing: the spool matters most when the
server is out of reach).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.diagnostics import (
    FIX_UNREACHABLE,
    Diagnosis,
    diagnose,
    diagnose_connection,
    diagnose_tls,
)
from voice_recordings.errors import ConfigError, StorageError
from voice_recordings.permissions import PROBE_KEY, PROBE_KIND
from voice_recordings.private_dirs import PRIVATE_MODE
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.spool.spool import Spool
from voice_recordings.spool.spool_directory import SpoolDirectoryError, spool_readiness
from voice_recordings.uploader import MinioUploader

PROBE_BODY: Final = b"voice-recordings check probe: safe to delete\n"
HEALTH_PATH: Final = "/minio/health/live"
CERT_WARN_DAYS: Final = 14
FIX_PUBLIC_URL: Final = (
    f"{Env.PUBLIC_URL} must reach the server from where recordings are played, and be the host "
    f"presigned URLs are signed for"
)
FIX_CAN_DELETE: Final = (
    "this identity may delete recordings: its policy grants more than "
    "policies/voice-ai-uploader.json; restore it with `pulumi up -s <stack>` (and `mc admin "
    "policy info omniplay voice-ai-policy` to see what it has now)"
)
# The probe was stored with its checksum echoed, yet a GET returns other bytes.
FIX_READ_BACK: Final = "check the server"
# A template: ``{spool}`` is the spool directory, so the line is a command to paste.
FIX_OPEN_SPOOL: Final = f"chmod {PRIVATE_MODE:o} {{spool}}"

Status = Literal["OK", "WARN", "FAIL", "SKIP"]
STATUSES: Final[tuple[Status, ...]] = ("OK", "WARN", "FAIL", "SKIP")


@dataclass(frozen=True)
class CheckResult:
    """One line of ``voice-recordings check``."""

    name: str
    status: Status
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4} {self.name:<13} {self.detail}"


@dataclass
class CheckContext:
    """What the steps share: the settings, the uploader, where the server is, and what an
    earlier step found that a later one reports (``access``: the bucket listing's failure)."""

    settings: StorageSettings
    uploader: MinioUploader
    host: str = ""
    port: int = 0
    access: Diagnosis | None = field(default=None)

    @classmethod
    def for_settings(cls, settings: StorageSettings, uploader: MinioUploader) -> CheckContext:
        """The context, with ``MINIO_ENDPOINT`` split into host and port."""
        host, _, port_text = settings.endpoint.rpartition(":")
        if not host or not port_text.isdigit():
            host, port_text = settings.endpoint, "443" if settings.use_ssl else "80"
        return cls(settings, uploader, host.strip("[]"), int(port_text))


@dataclass(frozen=True)
class Step:
    """One check: its line's ``name``, the function that makes the line, and the names of the
    steps that must have passed (OK, WARN, or SKIP by choice) before it can run."""

    name: str
    check: Callable[[CheckContext], CheckResult]
    needs: tuple[str, ...] = ()


def run_checks(settings: StorageSettings, uploader: MinioUploader) -> Iterator[CheckResult]:
    """The troubleshooting section, in order; a failed step skips the steps that need it."""
    context = CheckContext.for_settings(settings, uploader)
    blocked: set[str] = set()  # failed, or skipped because a need failed
    for step in STEPS:
        if blocked.intersection(step.needs):
            blocked.add(step.name)
            yield CheckResult(step.name, "SKIP", "needs the checks above")
            continue
        result = step.check(context)
        if result.status == "FAIL":
            blocked.add(step.name)
        yield result


def _check_dns(context: CheckContext) -> CheckResult:
    host, port = context.host, context.port
    try:
        addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})
    except OSError as exc:
        return CheckResult(
            "dns", "FAIL", f"{host} does not resolve ({exc}). Fix: {FIX_UNREACHABLE}"
        )
    return CheckResult("dns", "OK", f"{host} resolves to {', '.join(addresses)}")


def _check_tcp(context: CheckContext) -> CheckResult:
    host, port = context.host, context.port
    try:
        with socket.create_connection((host, port), timeout=context.settings.connect_timeout):
            pass
    except OSError as exc:
        return CheckResult(
            "tcp", "FAIL", f"cannot connect to {host}:{port} ({exc}). Fix: {FIX_UNREACHABLE}"
        )
    return CheckResult("tcp", "OK", f"{host}:{port} accepts connections")


def _check_tls(context: CheckContext) -> CheckResult:
    return check_tls(context.settings, context.host, context.port)


def _ssl_context(settings: StorageSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_bundle)


def check_tls(settings: StorageSettings, host: str, port: int) -> CheckResult:
    """The TLS handshake with the trust settings the client uses; WARN near expiry."""
    if not settings.use_ssl:
        return CheckResult("tls", "SKIP", f"{Env.USE_SSL}=false: plain HTTP (development only)")
    try:
        with (
            socket.create_connection((host, port), timeout=settings.connect_timeout) as raw,
            _ssl_context(settings).wrap_socket(raw, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert() or {}
    except (ssl.SSLError, ssl.CertificateError) as exc:
        diagnosis = diagnose_tls(exc)
        reason = getattr(exc, "verify_message", None) or exc
        return CheckResult("tls", "FAIL", f"{diagnosis.summary}: {reason}. Fix: {diagnosis.fix}")
    except OSError as exc:
        # Not a certificate problem (those are SSLErrors, above): a silent or dropped connection.
        diagnosis = diagnose_connection(exc)
        return CheckResult(
            "tls",
            "FAIL",
            f"TLS handshake failed, {diagnosis.summary} ({exc}). Fix: {diagnosis.fix}",
        )
    not_after = cert.get("notAfter")
    if not isinstance(not_after, str):
        return CheckResult("tls", "OK", "certificate trusted")
    expires = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), dt.UTC)
    days = (expires - dt.datetime.now(dt.UTC)).days
    detail = f"certificate trusted, valid until {expires:%Y-%m-%d} ({days} days)"
    if days < CERT_WARN_DAYS:
        return CheckResult("tls", "WARN", f"{detail}: renew it soon")
    return CheckResult("tls", "OK", detail)


def _check_health(context: CheckContext) -> CheckResult:
    settings = context.settings
    url = settings.endpoint_url + HEALTH_PATH
    tls = _ssl_context(settings) if settings.use_ssl else None
    try:
        with urllib.request.urlopen(url, timeout=settings.read_timeout, context=tls) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        body = exc.read(512)
        if status in (400, 403, 404) and b"<Error>" in body:
            # MinIO answers this path itself, unauthenticated; a plain S3 server (or the embedded
            # test endpoint) reads it as a bucket "minio" and refuses.
            return CheckResult(
                "health",
                "WARN",
                f"{HEALTH_PATH} answered HTTP {status} with an S3 error: not a MinIO server, "
                f"no health endpoint; skipped",
            )
    except (urllib.error.URLError, OSError) as exc:
        # A silent server (a timeout) has its own fix; a refused connection is the endpoint's.
        return CheckResult("health", "FAIL", f"{url}: {exc}. Fix: {diagnose_connection(exc).fix}")
    if status == 200:
        return CheckResult("health", "OK", f"{HEALTH_PATH} answered 200")
    return CheckResult(
        "health", "FAIL", f"{HEALTH_PATH} answered HTTP {status}. Fix: {FIX_UNREACHABLE}"
    )


def _check_credentials(context: CheckContext) -> CheckResult:
    """Credentials, by listing the bucket. A GET (not HEAD) so the error carries its code: a HEAD
    answer has no body, and a bad signature would look like Access Denied. A refusal that names
    the bucket (access denied, no such bucket) means the keys were accepted: the bucket step
    reports it."""
    settings = context.settings
    try:
        context.uploader.client.list_objects_v2(Bucket=settings.bucket, MaxKeys=1, Prefix=PROBE_KEY)
    except (ClientError, BotoCoreError, OSError) as exc:
        found = diagnose(exc)
        if found.category not in ("access_denied", "missing_bucket"):
            return CheckResult("credentials", "FAIL", str(found))
        context.access = found
    return CheckResult(
        "credentials", "OK", f"{Env.ACCESS_KEY} {_masked(settings.access_key)} accepted"
    )


def _check_bucket(context: CheckContext) -> CheckResult:
    bucket = context.settings.bucket
    if context.access is not None:
        return CheckResult("bucket", "FAIL", f"{bucket}: {context.access}")
    return CheckResult("bucket", "OK", f"{bucket} reachable (s3:ListBucket)")


def _check_put(context: CheckContext) -> CheckResult:
    try:
        context.uploader.put(PROBE_KIND, PROBE_KEY, PROBE_BODY, {})
    except StorageError as exc:
        return CheckResult("put", "FAIL", _storage_detail(exc))
    return CheckResult("put", "OK", f"{PROBE_KEY} written with tag and checksum (s3:PutObject*)")


def _check_get(context: CheckContext) -> CheckResult:
    client, bucket = context.uploader.client, context.settings.bucket
    try:
        body = client.get_object(Bucket=bucket, Key=PROBE_KEY)["Body"].read()
    except (ClientError, BotoCoreError, OSError) as exc:
        return CheckResult("get", "FAIL", str(diagnose(exc)))
    if body == PROBE_BODY:
        return CheckResult("get", "OK", "read back, bytes identical (s3:GetObject)")
    return CheckResult("get", "FAIL", f"read back different bytes. Fix: {FIX_READ_BACK}")


def _check_delete_denied(context: CheckContext) -> CheckResult:
    try:
        context.uploader.client.delete_object(Bucket=context.settings.bucket, Key=PROBE_KEY)
    except ClientError as exc:
        if diagnose(exc).category == "access_denied":
            return CheckResult("delete-denied", "OK", "delete refused (least privilege)")
        return CheckResult("delete-denied", "FAIL", str(diagnose(exc)))
    except (BotoCoreError, OSError) as exc:
        return CheckResult("delete-denied", "FAIL", str(diagnose(exc)))
    return CheckResult("delete-denied", "FAIL", f"delete allowed. Fix: {FIX_CAN_DELETE}")


def _check_presigned(context: CheckContext) -> CheckResult:
    settings, uploader = context.settings, context.uploader
    if settings.url_mode != "presigned":
        return CheckResult(
            "presigned-url", "SKIP", f"{Env.URL_MODE}=public: recordings use public URLs"
        )
    try:
        url = uploader.presigned_url(PROBE_KEY, expires_in=300)
        tls = _ssl_context(settings) if url.startswith("https:") else None
        with urllib.request.urlopen(url, timeout=settings.read_timeout, context=tls) as resp:
            played = resp.read() == PROBE_BODY
    except (urllib.error.URLError, OSError, ConfigError) as exc:
        return CheckResult("presigned-url", "FAIL", f"{exc}. Fix: {FIX_PUBLIC_URL}")
    if not played:
        return CheckResult("presigned-url", "FAIL", f"different bytes. Fix: {FIX_PUBLIC_URL}")
    return CheckResult("presigned-url", "OK", f"plays from {settings.public_url}")


def _check_spool(context: CheckContext) -> CheckResult:
    """Whether a recording the server refuses could be spooled, found by reading only: a check
    leaves the local disk as it was (no directory made, no mode repaired, no file written)."""
    settings = context.settings
    if settings.spool_dir is None:
        return CheckResult(
            "spool",
            "WARN",
            f"disabled ({Env.SPOOL_DIR}=off): a storage outage loses recordings",
        )
    spool = Spool(settings.spool_dir)
    try:
        ready = spool_readiness(spool.directory)
    except SpoolDirectoryError as exc:  # says what is wrong and the fix itself
        return CheckResult("spool", "FAIL", str(exc))
    if not ready.exists:
        return CheckResult(
            "spool",
            "OK",
            f"{spool.directory} does not exist yet; the first spooled recording makes it "
            f"({PRIVATE_MODE:o}) in {ready.parent}, which this user may write to",
        )
    waiting = spool.count()
    waits = f"{waiting} recording(s) wait in {spool.directory}: run `voice-recordings replay`"
    if ready.open_mode:
        return CheckResult(
            "spool",
            "WARN",
            f"{spool.directory} is open to others (mode {ready.open_mode:o}); replay and the "
            f"next spooled recording make it {PRIVATE_MODE:o}"
            f"{'; ' + waits if waiting else ''}. "
            f"Fix: {FIX_OPEN_SPOOL.format(spool=spool.directory)}",
        )
    if waiting:
        return CheckResult("spool", "WARN", waits)
    return CheckResult("spool", "OK", f"{spool.directory} writable, empty")


def _storage_detail(exc: StorageError) -> str:
    cause = exc.__cause__
    return str(diagnose(cause)) if cause is not None else str(exc)


def _masked(access_key: str) -> str:
    return f"{access_key[:4]}..." if len(access_key) > 4 else "..."


# The steps, in the order they print, each with what it needs (one place for "skip the rest").
STEPS: Final[tuple[Step, ...]] = (
    Step("dns", _check_dns),
    Step("tcp", _check_tcp, needs=("dns",)),
    Step("tls", _check_tls, needs=("tcp",)),
    Step("health", _check_health, needs=("tls",)),
    Step("credentials", _check_credentials, needs=("tls",)),
    Step("bucket", _check_bucket, needs=("credentials",)),
    Step("put", _check_put, needs=("bucket",)),
    Step("get", _check_get, needs=("put",)),
    Step("presigned-url", _check_presigned, needs=("put",)),
    Step("delete-denied", _check_delete_denied, needs=("put",)),
    Step("spool", _check_spool),
)
