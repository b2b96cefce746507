"""Erasing a call, or a whole company, from the bucket: every version and delete marker, proven.

A data-subject request (LGPD art. 18) or a company leaving: :func:`erase` removes every version
and every delete marker of the request's objects, then lists again and reports what is left.
Only keys of the layout are touched, each one parsed with :func:`~voice_recordings.keys.
parse_key` (another company's keys, ``company_1`` against ``company_10``, and keys outside the
layout are never erased; the last are listed as left alone). It is safe to interrupt and run
again: each run lists what is there and removes it.

Before anything is deleted, an erasure marker (:func:`~voice_recordings.keys.
erasure_marker_key`) records when the storage decided: a recording of the call still waiting in
a Voice AI spool is then dropped by the next replay instead of coming back
(:func:`erased_at`). The marker holds ids and a time, no content; a second run keeps the first
time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from voice_recordings.answers import NotS3Answer
from voice_recordings.diagnostics import MISSING_OBJECT_CODES
from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import (
    company_prefix,
    erasure_marker_key,
    parse_key,
    validate_company_id,
    validate_token,
)
from voice_recordings.metadata import format_timestamp

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DELETE_BATCH: Final = 1000  # DeleteObjects takes at most this many keys per request
MARKER_CONTENT_TYPE: Final = "application/json"


@dataclass(frozen=True)
class ErasureRequest:
    """What was asked: one call of a company, or the whole company (``call_uuid`` None)."""

    company_id: int
    call_uuid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "company_id", validate_company_id(self.company_id))
        if self.call_uuid is not None:
            object.__setattr__(self, "call_uuid", validate_token("call_uuid", self.call_uuid))

    def covers(self, key: str) -> bool:
        """Whether ``key`` is a recording or transcript of this request (layout keys only)."""
        try:
            parsed = parse_key(key)
        except InvalidInputError:
            return False
        return parsed.company_id == self.company_id and self.call_uuid in (None, parsed.call_uuid)

    @property
    def marker_key(self) -> str:
        """Where the erasure marker of this request goes."""
        return erasure_marker_key(self.company_id, self.call_uuid)

    def describe(self) -> str:
        """``call abc-123 of company 5`` or ``every recording of company 5``."""
        if self.call_uuid is None:
            return f"every recording and transcript of company {self.company_id}"
        return f"call {self.call_uuid} of company {self.company_id}"


@dataclass(frozen=True)
class StoredVersion:
    """One version (or delete marker) on the server: what a report lists, never its content."""

    key: str
    version_id: str
    size: int
    last_modified: str
    delete_marker: bool


@dataclass
class ErasureReport:
    """What one :func:`erase` run did: a record a data-protection officer can file."""

    request: ErasureRequest
    bucket: str
    endpoint: str
    identity: str  # the access key that erased (never the secret)
    started_at: str
    dry_run: bool
    marker: str = ""
    removed: list[StoredVersion] = field(default_factory=list)
    failed: list[tuple[StoredVersion, str]] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)  # under the prefix, outside the layout
    remaining: list[StoredVersion] = field(default_factory=list)
    finished_at: str = ""

    @property
    def complete(self) -> bool:
        """True when nothing of the request remains on the server."""
        return not self.dry_run and not self.remaining and not self.failed

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "request": {
                "company_id": self.request.company_id,
                "call_uuid": self.request.call_uuid,
                "scope": self.request.describe(),
            },
            "bucket": self.bucket,
            "endpoint": self.endpoint,
            "identity": self.identity,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "dry_run": self.dry_run,
            "erasure_marker": self.marker,
            "removed": [asdict(v) for v in self.removed],
            "failed": [{**asdict(v), "error": e} for v, e in self.failed],
            "left_alone_outside_the_layout": self.left_alone,
            "final_check": {
                "remaining": [asdict(v) for v in self.remaining],
                "nothing_remains": self.complete,
            },
        }


def _versions(
    client: S3Client, bucket: str, request: ErasureRequest, left_alone: list[str] | None = None
) -> Iterator[StoredVersion]:
    # The trailing slash of company_prefix keeps company_1 from listing company_10's keys; the
    # parse then keeps only this request's keys of the layout.
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=company_prefix(request.company_id)):
        entries: list[tuple[Any, bool]] = [(v, False) for v in page.get("Versions", [])]
        entries += [(m, True) for m in page.get("DeleteMarkers", [])]
        for entry, is_marker in entries:
            key = entry["Key"]
            if not request.covers(key):
                if left_alone is not None and key not in left_alone and _outside_layout(key):
                    left_alone.append(key)
                continue
            yield StoredVersion(
                key=key,
                version_id=str(entry.get("VersionId") or "null"),
                size=int(entry.get("Size", 0)) if not is_marker else 0,
                last_modified=format_timestamp(entry["LastModified"]),
                delete_marker=is_marker,
            )


def _outside_layout(key: str) -> bool:
    try:
        parse_key(key)
    except InvalidInputError:
        return True
    return False


def find_versions(client: S3Client, bucket: str, request: ErasureRequest) -> list[StoredVersion]:
    """Every version and delete marker of the request's objects, every page of the listing."""
    return list(_versions(client, bucket, request))


def _leave_marker(client: S3Client, bucket: str, request: ErasureRequest, now: str) -> None:
    if erased_marker_time(client, bucket, request.marker_key) is not None:
        return  # a run before this one decided: keep its time
    body = json.dumps(
        {"company_id": request.company_id, "call_uuid": request.call_uuid, "erased_at": now}
    ).encode()
    client.put_object(
        Bucket=bucket, Key=request.marker_key, Body=body, ContentType=MARKER_CONTENT_TYPE
    )


def erase(
    client: S3Client,
    bucket: str,
    request: ErasureRequest,
    *,
    endpoint: str,
    identity: str,
    dry_run: bool = True,
    now: dt.datetime | None = None,
) -> ErasureReport:
    """Remove every version and delete marker of ``request`` (``dry_run``: only list them)."""
    started = format_timestamp(now or dt.datetime.now(dt.UTC))
    report = ErasureReport(request, bucket, endpoint, identity, started, dry_run)
    found = list(_versions(client, bucket, request, report.left_alone))
    if dry_run:
        report.remaining = found
        report.finished_at = format_timestamp(dt.datetime.now(dt.UTC))
        return report
    _leave_marker(client, bucket, request, started)
    report.marker = request.marker_key
    for start in range(0, len(found), DELETE_BATCH):
        _delete_batch(client, bucket, found[start : start + DELETE_BATCH], report)
    report.remaining = find_versions(client, bucket, request)
    report.finished_at = format_timestamp(dt.datetime.now(dt.UTC))
    return report


def _delete_batch(
    client: S3Client, bucket: str, batch: list[StoredVersion], report: ErasureReport
) -> None:
    """DeleteObjects for ``batch``; what the server does not say it deleted is deleted one by
    one, so a server that refuses the batch form (or answers it partly) still gets each
    version's own answer, recorded as removed or failed."""
    answer = client.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [{"Key": v.key, "VersionId": v.version_id} for v in batch],
            "Quiet": False,
        },
    )
    deleted = {(d.get("Key"), d.get("VersionId")) for d in answer.get("Deleted", [])}
    for version in batch:
        if (version.key, version.version_id) in deleted:
            report.removed.append(version)
            continue
        try:
            client.delete_object(Bucket=bucket, Key=version.key, VersionId=version.version_id)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            report.failed.append((version, f"{error.get('Code')}: {error.get('Message')}"))
        else:
            report.removed.append(version)


def erased_marker_time(client: S3Client, bucket: str, marker_key: str) -> dt.datetime | None:
    """When the marker at ``marker_key`` says the storage erased, or None if there is none."""
    try:
        body = client.get_object(Bucket=bucket, Key=marker_key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
            return None
        raise
    try:
        when = dt.datetime.fromisoformat(str(json.loads(body)["erased_at"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        # Not a marker `erase` writes (a proxy's page, a hand-made file): nothing may be decided
        # on it. Replay stops and keeps every entry; a person looks.
        raise NotS3Answer(
            detail=f"the erasure marker {marker_key} is not one `voice-recordings erase` writes "
            f"(no erased_at): fix or remove it, then replay again"
        ) from None
    if when.tzinfo is None:
        raise NotS3Answer(detail=f"the erasure marker {marker_key} has a time without a zone")
    return when


def erased_at(client: S3Client, bucket: str, key: str) -> dt.datetime | None:
    """When the call of ``key`` (or its whole company) was erased, or None if it never was."""
    parsed = parse_key(key)
    times = [
        erased_marker_time(client, bucket, erasure_marker_key(parsed.company_id, call))
        for call in (parsed.call_uuid, None)
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None
