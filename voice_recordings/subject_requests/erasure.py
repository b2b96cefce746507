"""Erasing a call, or a whole company, from the bucket: every version and delete marker, proven.

A data-subject request (LGPD art. 18) or a company leaving: :func:`erase` removes every version
and every delete marker of the request's objects, then lists again and reports what is left.
Only keys of the layout are touched, each one parsed with :func:`~voice_recordings.keys.
parse_key` (another company's keys, ``company_1`` against ``company_10``, and keys outside the
layout are never erased; the last are listed as left alone). It is safe to interrupt and run
again: each run lists what is there and removes it.

Before anything is listed or deleted, an erasure marker (:func:`~voice_recordings.keys.
erasure_marker_key`) records when the storage decided, each run its own time (a rerun decides
again: what was spooled between two erasures goes too): a recording of the call still waiting in
a Voice AI spool is then dropped by the next replay instead of coming back (:func:`erased_at`).
Only the steward may write markers (``policies/*.json``, guardrail ``erasures-steward-only``).

An erasure is final: a replay that checked for the marker just before it was written must land
within :data:`LANDING_WINDOW` of its check or not at all (replay bounds it), so :func:`erase`
waits until the window after its marker has passed, lists again, removes what landed meanwhile
and reports it (``landed_after``), and only then makes its final check. What was removed is
journalled as it goes (:mod:`voice_recordings.subject_requests.erasure_report`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from voice_recordings.diagnostics import MISSING_OBJECT_CODES
from voice_recordings.errors import InvalidInputError, VoiceRecordingsError
from voice_recordings.keys import (
    company_prefix,
    erasure_marker_key,
    parse_key,
    validate_company_id,
    validate_token,
)
from voice_recordings.metadata import format_timestamp
from voice_recordings.subject_requests.erasure_report import (
    ReportJournal,
    journal_request,
    now_text,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Seconds within which a write that found no erasure marker must land (replay bounds its upload
# to it); erase lists again once this has passed after its marker. Above MINIO_UPLOAD_DEADLINE's
# default (20 s), so an upload in flight when the marker is written is caught too.
LANDING_WINDOW: Final = 30.0
# Rounds of "list again, remove what landed" before the final check.
SETTLE_ROUNDS: Final = 3
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
    landed_after: list[StoredVersion] = field(default_factory=list)  # written after the marker
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
            "landed_after": [asdict(v) for v in self.landed_after],
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


# A marker `erase` did not write: only the steward may settle it, replay decides nothing on it.
FIX_FOREIGN_MARKER: Final = (
    "the data-protection steward runs the erasure again (it rewrites the marker) or removes the "
    "marker, then replay again"
)


class ForeignMarkerError(VoiceRecordingsError):
    """An object at an erasure marker's key that ``voice-recordings erase`` did not write."""


def _leave_marker(client: S3Client, bucket: str, request: ErasureRequest) -> str:
    """Write the marker with this moment as the erasure's time (a rerun decides again, and
    rewrites a marker it did not write); return that time."""
    when = now_text()
    body = json.dumps(
        {"company_id": request.company_id, "call_uuid": request.call_uuid, "erased_at": when}
    ).encode()
    client.put_object(
        Bucket=bucket, Key=request.marker_key, Body=body, ContentType=MARKER_CONTENT_TYPE
    )
    return when


def erase(
    client: S3Client,
    bucket: str,
    request: ErasureRequest,
    *,
    endpoint: str,
    identity: str,
    dry_run: bool = True,
    now: dt.datetime | None = None,
    journal: ReportJournal | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ErasureReport:
    """Remove every version and delete marker of ``request`` (``dry_run``: only list them),
    journalling each step to ``journal`` as it happens (see the module docstring)."""
    started = format_timestamp(now or dt.datetime.now(dt.UTC))
    report = ErasureReport(request, bucket, endpoint, identity, started, dry_run)
    if dry_run:
        report.remaining = list(_versions(client, bucket, request, report.left_alone))
        report.finished_at = now_text()
        return report
    record = journal.write if journal is not None else _no_record
    record(
        "run",
        request=journal_request(request),
        bucket=bucket,
        endpoint=endpoint,
        identity=identity,
        started_at=started,
    )
    erased_at_text = _leave_marker(client, bucket, request)
    # From the moment the marker is there: a replay that looked just before must land by then.
    window_ends = time.monotonic() + LANDING_WINDOW
    report.marker = request.marker_key
    record("marker", key=request.marker_key, erased_at=erased_at_text)
    found = list(_versions(client, bucket, request, report.left_alone))
    if report.left_alone:
        record("left_alone", keys=report.left_alone)
    _delete_all(client, bucket, found, report, journal)
    seen = {(v.key, v.version_id) for v in found}
    sleep(max(0.0, window_ends - time.monotonic()))
    for _ in range(SETTLE_ROUNDS):
        late = [
            v for v in find_versions(client, bucket, request) if (v.key, v.version_id) not in seen
        ]
        if not late:
            break
        report.landed_after += late
        if journal is not None:
            journal.versions("landed_after", late)
        seen |= {(v.key, v.version_id) for v in late}
        _delete_all(client, bucket, late, report, journal)
    report.remaining = find_versions(client, bucket, request)
    report.finished_at = now_text()
    record(
        "final_check",
        remaining=[asdict(v) for v in report.remaining],
        nothing_remains=report.complete,
        finished_at=report.finished_at,
    )
    return report


def _no_record(event: str, **fields: object) -> None:
    """Without a journal (the Python API's default), nothing is recorded."""


def _delete_all(
    client: S3Client,
    bucket: str,
    versions: list[StoredVersion],
    report: ErasureReport,
    journal: ReportJournal | None,
) -> None:
    for start in range(0, len(versions), DELETE_BATCH):
        batch = versions[start : start + DELETE_BATCH]
        if journal is not None:
            journal.versions("removing", batch)  # before the request: the intent is on record
        removed, failed = len(report.removed), len(report.failed)
        _delete_batch(client, bucket, batch, report)
        if journal is not None:
            journal.versions("removed", report.removed[removed:])
            if report.failed[failed:]:
                journal.write(
                    "failed",
                    versions=[{**asdict(v), "error": e} for v, e in report.failed[failed:]],
                )


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
        when = None
    if when is None or when.tzinfo is None:
        # Not a marker `erase` writes (a hand-made file): nothing may be decided on it, and the
        # entries it would concern stay in the spool until the steward settles it.
        raise ForeignMarkerError(
            f"the erasure marker {marker_key} was not written by `voice-recordings erase` (no "
            f"erased_at with a time zone); the spooled recordings it may concern are kept. Fix: "
            f"{FIX_FOREIGN_MARKER}"
        )
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
