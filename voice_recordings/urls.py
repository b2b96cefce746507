"""URLs for a stored object: the public form and the presigned GET form, and whether the object
is there for a URL to play."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.diagnostics import (
    ACCESS_DENIED_CODES,
    FIX_ACCESS_DENIED,
    MISSING_OBJECT_CODES,
    Diagnosis,
    diagnose,
)
from voice_recordings.errors import ConfigError, InvalidInputError
from voice_recordings.settings import MAX_PRESIGN_SECONDS, Env, StorageSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def public_url(settings: StorageSettings, key: str) -> str:
    """``{MINIO_PUBLIC_URL}/{bucket}/{key}``: plays only if the bucket allows anonymous reads."""
    return f"{settings.public_url}/{settings.bucket}/{quote(key, safe='/')}"


def presign_endpoint(settings: StorageSettings) -> str:
    """The host a presigned URL is signed for: the public host, since the browser requests it.

    A SigV4 signature covers the Host header, so a URL signed for an internal endpoint but
    rewritten to the public host would be refused.
    """
    parts = urlsplit(settings.public_url)
    if parts.path not in ("", "/"):
        raise ConfigError(
            f"{Env.PUBLIC_URL} has a path ({parts.path!r}); presigned URLs need a host of their "
            f"own: drop the path or set {Env.URL_MODE}=public"
        )
    return f"{parts.scheme}://{parts.netloc}"


def validate_expiry(expires_in: object) -> int:
    """Seconds from 1 to 7 days (the SigV4 limit); anything else raises InvalidInputError."""
    if (
        not isinstance(expires_in, int)
        or isinstance(expires_in, bool)
        or not 1 <= expires_in <= MAX_PRESIGN_SECONDS
    ):
        raise InvalidInputError(
            f"expires_in must be whole seconds from 1 to {MAX_PRESIGN_SECONDS} (7 days, the "
            f"S3 signature limit), got {expires_in!r}"
        )
    return expires_in


def presigned_get_url(client: S3Client, bucket: str, key: str, expires_in: int) -> str:
    """A presigned GET URL for ``key``; ``client`` must point at :func:`presign_endpoint`."""
    url: str = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key},
        ExpiresIn=validate_expiry(expires_in),
    )
    return url


FIX_MISSING_OBJECT: Final = (
    "give the key as `voice-recordings upload` printed it (company_<id>/voice/YYYY/MM/DD/"
    f"<call>.mp3, the call's UTC date) and check {Env.BUCKET}; a recording spooled while the "
    "server was down is stored once `voice-recordings replay` delivers it, an erased one is gone"
)


def stored_object_problem(client: S3Client, bucket: str, key: str) -> Diagnosis | None:
    """Why a URL of ``key`` would play nothing (None: the object is there), from one HEAD
    (``s3:GetObject``, which every identity that plays or hands out URLs has). A transient
    diagnosis means the server could not be asked, not that the object is missing."""
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in MISSING_OBJECT_CODES:
            return Diagnosis(
                "missing_object",
                f"no object {key} in bucket {bucket}",
                FIX_MISSING_OBJECT,
                transient=False,
            )
        if code in ACCESS_DENIED_CODES:
            return Diagnosis(
                "access_denied",
                f"S3 Access Denied reading {key}: these keys may not read it, so its URL would "
                f"not play either (keys that may not list the bucket, such as OmniPlay's "
                f"reader's, are refused so for a key that does not exist too)",
                FIX_ACCESS_DENIED,
                transient=False,
            )
        return diagnose(exc)
    except (BotoCoreError, OSError) as exc:
        return diagnose(exc)
    return None
