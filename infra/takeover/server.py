"""The live server, read (and tagged) as the provider's admin through the S3 API.

The admin's client, the mapping of server errors to :class:`TakeoverError` (with what to fix), and
the scan of every stored object version with its tags, which the survey counts and tag-existing
tags.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import StackConfig, StackConfigError
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from voice_recordings import KIND_TAG_KEY, InvalidInputError, Kind, StorageSettings, parse_key
from voice_recordings.client import make_s3_client
from voice_recordings.keys import ERASURES_PREFIX
from voice_recordings.permissions import PROBE_KEY, PROBE_KIND

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_CONCURRENCY: Final = 8
MAX_CONCURRENCY: Final = 64
DEFAULT_SAMPLE: Final = 20
# The version id S3 and MinIO give an object stored while the bucket was not versioning.
NULL_VERSION: Final = "null"


class TakeoverError(Exception):
    """The server could not be read (or written) as asked; the message says what to fix."""


def admin_client(config: StackConfig, env: Mapping[str, str] | None = None) -> S3Client:
    """An S3 client for the stack's endpoint signed by the provider's admin credentials."""
    source = os.environ if env is None else env
    user, password = source.get(ADMIN_USER_ENV, ""), source.get(ADMIN_PASSWORD_ENV, "")
    if not user or not password:
        raise StackConfigError(
            f"MinIO admin credentials not set: export {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV} "
            f"(the credentials `pulumi up` gives the provider) before running the takeover"
        )
    settings = StorageSettings(
        endpoint=config.endpoint,
        access_key=user,
        secret_key=password,
        bucket=config.bucket,
        use_ssl=config.ssl,
        region=config.region,
        ca_bundle=config.ca_bundle or None,  # voice-recordings:caBundle, as the provider
        max_attempts=3,
    )
    return make_s3_client(settings)


def error_code(exc: ClientError) -> str:
    """The S3 error code of ``exc`` (``""`` when it has none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _server_error(what: str, exc: Exception) -> TakeoverError:
    denied = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403")
    if isinstance(exc, ClientError) and (error_code(exc) in denied or _status(exc) == 403):
        hint = f"{ADMIN_USER_ENV}/{ADMIN_PASSWORD_ENV} must be the server admin's credentials"
    else:
        hint = "check the stack's endpoint, ssl and region, and that the server is up"
    return TakeoverError(f"{what}: {exc} ({hint})")


def bucket_exists(s3: S3Client, bucket: str) -> bool:
    """True when ``bucket`` exists (HEAD bucket); any answer but found/not found is an error."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if _status(exc) == 404 or error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise _server_error(f"cannot read bucket {bucket!r}", exc) from None
    except BotoCoreError as exc:
        raise _server_error(f"cannot reach the server for bucket {bucket!r}", exc) from None
    return True


def read_optional(call: Callable[[], Any], *missing: str) -> Any:
    """``call()``, or None when the server answers with one of the ``missing`` error codes."""
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) in missing:
            return None
        raise _server_error("cannot read the bucket's configuration", exc) from None
    except BotoCoreError as exc:
        raise _server_error("cannot reach the server", exc) from None


def expected_kind(key: str) -> Kind | None:
    """The ``kind`` an object at ``key`` must carry, or None when the key is outside the layout.

    ``voice-recordings check``'s probe is a transcript by design (tagged so the lifecycle expires
    its old versions).
    """
    if key == PROBE_KEY:
        return PROBE_KIND
    try:
        return parse_key(key).kind
    except InvalidInputError:
        return None


@dataclass(frozen=True)
class StoredObject:
    """One stored object version and its tags."""

    key: str
    # As the listing gives it: "null" for a version stored while the bucket was unversioned;
    # None only when the server lists no version id at all.
    version_id: str | None
    tags: Mapping[str, str]
    expected: Kind | None

    @property
    def conforming(self) -> bool:
        """The key follows the layout."""
        return self.expected is not None

    @property
    def erasure_marker(self) -> bool:
        """One of ``voice-recordings erase``'s markers: outside the layout on purpose, the
        steward's record of an erasure (replay obeys it); never to be moved or deleted."""
        return self.key.startswith(ERASURES_PREFIX)

    @property
    def untagged(self) -> bool:
        """A conforming object without a ``kind`` tag: the lifecycle never selects it."""
        return self.expected is not None and KIND_TAG_KEY not in self.tags

    @property
    def mistagged(self) -> bool:
        """A conforming object whose ``kind`` tag names the other kind (the wrong retention)."""
        return self.expected is not None and self.tags.get(KIND_TAG_KEY, self.expected) != (
            self.expected
        )

    @property
    def label(self) -> str:
        """``key`` (and its version, unless it is the "null" one an unversioned store made)."""
        if self.version_id in (None, NULL_VERSION):
            return self.key
        return f"{self.key} (version {self.version_id})"


def version_kwargs(version_id: str | None) -> dict[str, Any]:
    """The ``VersionId`` argument of an S3 call: the version's own id, ``"null"`` included
    (none only when the listing gave no id)."""
    return {} if version_id is None else {"VersionId": version_id}


def _read_tags(s3: S3Client, bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    answer = s3.get_object_tagging(Bucket=bucket, Key=key, **version_kwargs(version_id))
    return {t["Key"]: t["Value"] for t in answer["TagSet"]}


def scan(
    s3: S3Client, bucket: str, pool: ThreadPoolExecutor
) -> Iterator[StoredObject | tuple[str, str | None]]:
    """Every stored object version of ``bucket`` with its tags (delete markers are not objects).

    One page of the listing (at most 1000 versions) is read at a time, its tags fetched by
    ``pool``: memory and requests in flight stay bounded whatever the bucket holds. A version
    that vanished between the listing and its tag read (an upload replaced it in an unversioned
    bucket) is yielded as ``(key, version)`` instead.
    """
    paginator = s3.get_paginator("list_object_versions")
    try:
        for page in paginator.paginate(Bucket=bucket):
            # Each version by its own id, "null" included: an object stored before versioning
            # was enabled keeps the version id "null", and a call without a VersionId would
            # reach the current version (or a delete marker) instead of it.
            versions = [(v["Key"], v.get("VersionId")) for v in page.get("Versions", [])]

            def read(item: tuple[str, str | None]) -> StoredObject | tuple[str, str | None]:
                key, version = item
                try:
                    tags = _read_tags(s3, bucket, key, version)
                except ClientError as exc:
                    if error_code(exc) in ("NoSuchKey", "NoSuchVersion"):
                        return item
                    raise
                return StoredObject(key, version, tags, expected_kind(key))

            yield from pool.map(read, versions)
    except ClientError as exc:
        raise _server_error(f"cannot list the objects of {bucket!r}", exc) from None
    except BotoCoreError as exc:
        raise _server_error("cannot reach the server", exc) from None


def keep_sample(sample: list[str], label: str, limit: int) -> None:
    """Append ``label`` to ``sample`` while it holds fewer than ``limit`` (the first N are kept)."""
    if len(sample) < limit:
        sample.append(label)
