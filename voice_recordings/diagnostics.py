"""Turn a storage failure into the specification's troubleshooting: what went wrong and the fix.

One table, used by the uploader's errors and log lines and by ``voice-recordings check``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Final

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    FlexibleChecksumError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)

from voice_recordings.answers import NotS3Answer
from voice_recordings.errors import StorageError
from voice_recordings.settings import MISSING_KEYS_MESSAGE


@dataclass(frozen=True)
class Diagnosis:
    """A failure, classified: ``category`` for code and metrics, ``summary`` and ``fix`` for people.

    ``transient`` failures may succeed later (server down, timeout); the others (wrong keys,
    access denied, missing bucket) need a person and are not worth retrying.
    """

    category: str
    summary: str
    fix: str
    transient: bool

    def __str__(self) -> str:
        return f"{self.summary}. Fix: {self.fix}"

    def error(self, message: str, key: str, spool_error: str | None = None) -> StorageError:
        """The :class:`StorageError` the caller gets for this failure of ``key``."""
        return StorageError(
            message,
            key=key,
            category=self.category,
            fix=self.fix,
            transient=self.transient,
            spool_error=spool_error,
        )


ACCESS_DENIED_CODES: Final = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})
BAD_CREDENTIAL_CODES: Final = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidToken"}
)
MISSING_BUCKET_CODES: Final = frozenset({"NoSuchBucket", "404", "NotFound"})
# An object that is not there: GetObject's NoSuchKey, a HEAD's bare 404.
MISSING_OBJECT_CODES: Final = frozenset({"NoSuchKey", "404", "NotFound"})

FIX_CREDENTIALS: Final = (
    "check MINIO_ACCESS_KEY and MINIO_SECRET_KEY (`docker exec voice-ai-service env | grep "
    "MINIO`); re-export them with `pulumi stack output voice_ai_env --show-secrets`, then "
    "restart the service (`docker-compose down && docker-compose up -d`)"
)
FIX_ACCESS_DENIED: Final = (
    "the identity lacks a permission on the bucket: check the policy (`mc admin policy info "
    "omniplay voice-ai-policy`) against policies/, then `pulumi up` to restore it"
)
FIX_SSL: Final = (
    "the server's TLS certificate is not trusted: set MINIO_CA_BUNDLE to the CA's PEM file "
    "(or add the CA to the container); use MINIO_USE_SSL=false only for a local dev server"
)
FIX_SSL_HOSTNAME: Final = (
    "the server's TLS certificate was issued for another name than MINIO_ENDPOINT's host: set "
    "MINIO_ENDPOINT to a name the certificate lists (e.g. storage.netplay.net.br, not its IP "
    "address), or have the server's certificate reissued to include it"
)
FIX_SSL_EXPIRED: Final = (
    "the server's TLS certificate has expired (or the clock here is wrong): renew the server's "
    "certificate, and check the date on this machine"
)
# The specification's name for every certificate problem; the detail says which one.
SSL_SUMMARY: Final = "SSL Certificate Error"
# OpenSSL's verify codes (X509_V_ERR_*) for the problems with a fix of their own.
_HOSTNAME_CODES: Final = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
_EXPIRED_CODES: Final = frozenset({10})  # CERT_HAS_EXPIRED
FIX_UNREACHABLE: Final = (
    "check that MINIO_ENDPOINT is right and the server is up (`curl -I "
    "https://<endpoint>/minio/health/live`); recordings are kept in the spool meanwhile"
)
FIX_TIMEOUT: Final = (
    "the server takes connections but does not answer in time (a hung server, a port that "
    "accepts and stays silent, a firewall or proxy holding the connection): check that "
    "MINIO_ENDPOINT is MinIO's S3 API port and that the server is not stuck or overloaded; on a "
    "slow link raise MINIO_CONNECT_TIMEOUT / MINIO_READ_TIMEOUT; recordings are kept in the "
    "spool meanwhile"
)
FIX_NOT_S3: Final = (
    "MINIO_ENDPOINT answers, but not as S3 does: point it at MinIO's S3 API port (9000 by "
    "default, not the console's 9001) or past the proxy's catch-all, then `voice-recordings "
    "check` and `voice-recordings replay`; recordings are kept in the spool meanwhile"
)
FIX_MISSING_BUCKET: Final = (
    "the bucket does not exist or MINIO_BUCKET is wrong: check the name, or create it with "
    "`pulumi up -s <stack>`"
)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: botocore keeps urllib3's error in ``kwargs``, urllib3 the ssl
    module's in ``args``; Python chains the rest."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        wrapped = [current.__cause__, current.__context__, *current.args]
        wrapped.extend(getattr(current, "kwargs", {}).values())
        todo.extend(item for item in wrapped if isinstance(item, BaseException))
    return seen


def diagnose_tls(exc: BaseException) -> Diagnosis:
    """Which certificate problem ``exc`` is (another host's certificate, an expired one, or one
    this client does not trust), as the specification's "SSL Certificate Error" with its fix."""
    causes = _causes(exc)
    codes = {getattr(cause, "verify_code", None) for cause in causes}
    # urllib3 matches IP addresses itself and raises a CertificateError (not a verify code).
    if codes & _HOSTNAME_CODES or any(
        type(cause).__name__ == "CertificateError" or "doesn't match" in str(cause)
        for cause in causes
    ):
        return Diagnosis(
            "ssl",
            f"{SSL_SUMMARY} (the certificate is for another host)",
            FIX_SSL_HOSTNAME,
            transient=False,
        )
    if codes & _EXPIRED_CODES:
        return Diagnosis(
            "ssl", f"{SSL_SUMMARY} (the certificate has expired)", FIX_SSL_EXPIRED, transient=False
        )
    return Diagnosis("ssl", SSL_SUMMARY, FIX_SSL, transient=False)


def diagnose_connection(exc: OSError) -> Diagnosis:
    """A connection that failed below TLS and HTTP: silence (a timeout) is not a certificate
    problem, and a refused or reset connection is the endpoint's or the network's."""
    if any(isinstance(cause, TimeoutError) for cause in _causes(exc)):
        return Diagnosis("unreachable", "no answer in time", FIX_TIMEOUT, transient=True)
    return Diagnosis("unreachable", "storage server unreachable", FIX_UNREACHABLE, transient=True)


def diagnose(exc: BaseException) -> Diagnosis:
    """Classify ``exc`` (a botocore error, an SSL or OS error) into a :class:`Diagnosis`."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in BAD_CREDENTIAL_CODES:
            return Diagnosis(
                "credentials",
                f"S3 rejected the credentials ({code})",
                FIX_CREDENTIALS,
                transient=False,
            )
        if code in ACCESS_DENIED_CODES:
            return Diagnosis(
                "access_denied", "S3 Access Denied", FIX_ACCESS_DENIED, transient=False
            )
        if code in MISSING_BUCKET_CODES:
            return Diagnosis(
                "missing_bucket",
                f"S3 says the bucket is missing ({code})",
                FIX_MISSING_BUCKET,
                transient=False,
            )
        if (isinstance(status, int) and status >= 500) or code in {"SlowDown", "RequestTimeout"}:
            return Diagnosis(
                "server_error",
                f"S3 server error ({code or status})",
                FIX_UNREACHABLE,
                transient=True,
            )
        return Diagnosis(
            "rejected",
            f"S3 refused the request ({code or status})",
            "see the server's error code above",
            transient=False,
        )
    if isinstance(exc, SSLError | ssl.SSLError | ssl.CertificateError):
        return diagnose_tls(exc)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return Diagnosis(
            "unreachable", "storage server unreachable", FIX_UNREACHABLE, transient=True
        )
    if isinstance(exc, NotS3Answer):
        return Diagnosis("not_s3", str(exc), FIX_NOT_S3, transient=False)
    if isinstance(exc, FlexibleChecksumError):
        # The bytes that came are not those the answer's checksum names: S3 sends both from
        # one object, a catch-all's headers name nothing it sends.
        return Diagnosis(
            "not_s3",
            "the bytes received do not match the checksum the server sent with them",
            FIX_NOT_S3,
            transient=False,
        )
    if isinstance(exc, NoCredentialsError):
        return Diagnosis("credentials", MISSING_KEYS_MESSAGE, FIX_CREDENTIALS, transient=False)
    if isinstance(exc, BotoCoreError | OSError):
        return Diagnosis(
            "unreachable",
            f"storage request failed ({type(exc).__name__})",
            FIX_UNREACHABLE,
            transient=True,
        )
    return Diagnosis(
        "unknown",
        f"unexpected error ({type(exc).__name__})",  # not its text: it might hold anything
        "report this line; the recording is kept in the spool, `voice-recordings replay` sends it",
        transient=False,
    )
