"""URLs for a stored object: the public form and the presigned GET form."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

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
