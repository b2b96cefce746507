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
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)

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


ACCESS_DENIED_CODES: Final = frozenset({"AccessDenied", "403", "Forbidden", "AllAccessDisabled"})
BAD_CREDENTIAL_CODES: Final = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidToken"}
)
MISSING_BUCKET_CODES: Final = frozenset({"NoSuchBucket", "404", "NotFound"})

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
FIX_UNREACHABLE: Final = (
    "check that MINIO_ENDPOINT is right and the server is up (`curl -I "
    "https://<endpoint>/minio/health/live`); recordings are kept in the spool meanwhile"
)
FIX_MISSING_BUCKET: Final = (
    "the bucket does not exist or MINIO_BUCKET is wrong: check the name, or create it with "
    "`pulumi up -s <stack>`"
)


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
    if isinstance(exc, SSLError | ssl.SSLError):
        return Diagnosis("ssl", "SSL Certificate Error", FIX_SSL, transient=False)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return Diagnosis(
            "unreachable", "storage server unreachable", FIX_UNREACHABLE, transient=True
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
        "unknown", f"unexpected error ({type(exc).__name__})", "see the traceback", transient=False
    )
