"""Replay: upload what the spool holds, and remove each entry only once the server holds it.

Given a client, a bucket and a :class:`~voice_recordings.spool.spool.Spool` (the uploader's
:meth:`~voice_recordings.uploader.MinioUploader.replay_spool` passes its own); each entry is
claimed with a lock, checked against its sha256, uploaded with its checksum, verified on the
server, then removed.

Replay sends SHA-256 (:data:`~voice_recordings.checksums.REPLAY_CHECKSUM`), not the upload path's
CRC32: the entry already holds its SHA-256 (entry.json, checked against the body when the entry
is read), so it costs no extra pass, and the server then keeps a digest that can prove a later
run's "already stored". Replay is the failure path: SHA-256's cost (0.5 ms per MiB) does not
matter there, its strength does. An object the server holds with only a CRC32 (what an upload
stores: one whose answer came too late, say) is never taken as proof: two bodies of one size
with one CRC32 are easy to make, so the entry is uploaded again (on a versioned bucket, one
identical version more, which the lifecycle rules expire).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.checksums import REPLAY_CHECKSUM
from voice_recordings.deadline import UploadDeadlineExceeded
from voice_recordings.deadline import install as install_deadlines
from voice_recordings.diagnostics import Diagnosis, diagnose
from voice_recordings.errors import VoiceRecordingsError
from voice_recordings.keys import ERASURES_PREFIX, kind_spec
from voice_recordings.metadata import format_timestamp, parse_object_metadata
from voice_recordings.spool.entry import BODY_FILE, ENTRY_FILE, CorruptEntryError, SpoolEntry
from voice_recordings.spool.entry_files import ForeignEntryError, open_entry_file, open_in_entry
from voice_recordings.spool.spool import Spool
from voice_recordings.subject_requests.erasure import LANDING_WINDOW, ForeignMarkerError, erased_at
from voice_recordings.transfer import put_multipart, put_single, transfer_config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The spool's logger: replay's lines belong to the spool's story.
log = logging.getLogger("voice_recordings.spool")


class VerificationError(VoiceRecordingsError):
    """The server's copy after a replay does not match the spooled bytes (entry kept)."""


# A spooled copy older than the server's object: a person decides, replay never hides newer data.
FIX_SUPERSEDED: Final = "keep the entry's body as a file if it matters, then delete the entry"


class SupersededError(VoiceRecordingsError):
    """The server holds a newer object at the entry's key: the entry must not become current
    over it (it would hide the newer bytes, and the lifecycle would expire them). Kept."""


# Above this a single PUT is refused by S3; replay then goes multipart.
MAX_SINGLE_PUT: Final = 5 * 1024**3


@dataclass
class ReplayReport:
    """What one :func:`replay_spool` run did."""

    uploaded: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    corrupt: list[tuple[str, str]] = field(default_factory=list)
    foreign: list[tuple[str, str]] = field(default_factory=list)
    # Dropped, never uploaded: the storage erased the call (or its company) after it was made.
    erased: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    busy: int = 0
    stopped: Diagnosis | None = None
    remaining: int = 0

    @property
    def ok(self) -> bool:
        """True when the spool is empty: every recording is on the server."""
        return self.remaining == 0


def replay_spool(
    client: S3Client,
    bucket: str,
    spool: Spool,
    progress: Callable[[str], None] | None = None,
) -> ReplayReport:
    """Upload every entry of ``spool`` to ``bucket`` through ``client`` (its endpoint and keys),
    and delete each one only once the server holds identical bytes and metadata.

    Safe to run twice at once and to re-run after a crash. A corrupt entry is reported and
    kept (never uploaded); a server-wide failure (down, wrong keys, access denied) stops the run
    after one log line with the fix, instead of failing once per entry. ``progress`` gets one
    line per entry.
    """
    report = ReplayReport()
    deadlines = install_deadlines(client)
    spool.ensure_directory()  # SpoolDirectoryError: a spool this user cannot trust or use
    try:
        spool.sweep_trash()
    except OSError as exc:  # a read-only spool: nothing to sweep now, the entries still count
        log.warning("spool %s not swept (%s)", spool.directory, exc.strerror or exc)
    entries = spool.entries()
    for number, entry_dir in enumerate(entries, 1):
        step = f"[{number}/{len(entries)}] {entry_dir.name}"
        try:  # an entry.json that is a link or not a file cannot even be locked: report it
            os.close(open_in_entry(entry_dir, ENTRY_FILE))
        except CorruptEntryError as exc:
            _report_bad(report, entry_dir, exc, step, progress)
            continue
        except FileNotFoundError:  # replayed meanwhile by another replayer
            continue
        with spool.claim(entry_dir) as claimed:
            if not claimed:
                report.busy += entry_dir.exists()
                continue
            try:
                entry = spool.read(entry_dir)
            except CorruptEntryError as exc:
                _report_bad(report, entry_dir, exc, step, progress)
                continue
            try:
                checked = time.monotonic()
                erasure = erasure_of(client, bucket, entry)
                present = False
                if erasure is None:
                    # An erasure decided just after that check must find this upload landed
                    # within its window, or never (the erasure's LANDING_WINDOW).
                    with deadlines.bound(bucket, entry.key, LANDING_WINDOW, since=checked):
                        present = store_entry(client, bucket, entry, entry_dir)
            except CorruptEntryError as exc:  # changed since it was read
                _report_bad(report, entry_dir, exc, step, progress)
                continue
            except (
                VerificationError,
                SupersededError,
                ForeignMarkerError,
                UploadDeadlineExceeded,
            ) as exc:
                report.failed.append((entry.key, str(exc)))
                log.error("replay of %s: %s; entry kept", entry.key, exc)
                if progress:
                    progress(f"{step}: KEPT {entry.key}: {exc}")
                continue
            except (ClientError, BotoCoreError, OSError) as exc:
                diagnosis = diagnose(exc)
                if diagnosis.category == "rejected":  # this object only: try the others
                    report.failed.append((entry.key, str(diagnosis)))
                    log.error("replay of %s refused, entry kept: %s", entry.key, diagnosis)
                    continue
                report.stopped = diagnosis
                log.error("replay stopped, %d entries kept: %s", len(entries), diagnosis)
                break
            if erasure is not None:
                # Erased after this recording was made: it must not come back. Dropped.
                try:
                    spool.remove(entry_dir)
                except OSError as exc:
                    report.failed.append((entry.key, f"{erasure}; not removed: {exc}"))
                    continue
                report.erased.append((entry.key, erasure))
                log.warning("spool entry %s dropped, not uploaded: %s", entry.key, erasure)
                if progress:
                    progress(f"{step}: ERASED, dropped: {entry.key}: {erasure}")
                continue
            try:
                spool.remove(entry_dir)
            except OSError as exc:  # stored and verified; the entry stays, the next run skips it
                reason = (
                    f"stored and verified, but the entry could not be removed "
                    f"({exc.strerror or exc}): make the spool writable"
                )
                report.failed.append((entry.key, reason))
                log.error("replay of %s: %s", entry.key, reason)
                continue
            (report.already_stored if present else report.uploaded).append(entry.key)
            if progress:
                progress(f"{step}: {'already stored' if present else 'uploaded'} {entry.key}")
    report.remaining = spool.count()
    return report


def _report_bad(
    report: ReplayReport,
    entry_dir: Path,
    exc: CorruptEntryError,
    step: str,
    progress: Callable[[str], None] | None,
) -> None:
    """One line for an entry replay will not touch (another user's, or corrupt); it is kept."""
    foreign = isinstance(exc, ForeignEntryError)
    (report.foreign if foreign else report.corrupt).append((entry_dir.name, str(exc)))
    what = "not this user's" if foreign else "corrupt"
    log.error("spool entry %s is %s, kept for a person to inspect: %s", entry_dir, what, exc)
    if progress:
        progress(f"{step}: {'FOREIGN' if foreign else 'CORRUPT'}, kept: {exc}")


def erasure_of(client: S3Client, bucket: str, entry: SpoolEntry) -> str | None:
    """Why ``entry`` must not be uploaded, or None: its call (or company) was erased after the
    recording was made (the erasure marker of voice_recordings.subject_requests.erasure)."""
    when = erased_at(client, bucket, entry.key)
    made = parse_object_metadata(entry.metadata).uploaded_at
    if when is None or made > when:
        return None
    return (
        f"its call was erased on {when:%Y-%m-%d %H:%M:%S}Z (marker under {ERASURES_PREFIX}), "
        f"after the recording was made ({made:%Y-%m-%d %H:%M:%S}Z)"
    )


def store_entry(client: S3Client, bucket: str, entry: SpoolEntry, entry_dir: Path) -> bool:
    """Make the server hold ``entry``; return True if it already did. Raises VerificationError
    if, after the upload, the server's size, checksum or metadata differ."""
    current = _head(client, bucket, entry.key)
    if _matches(current, entry, strict=True):
        return True
    _refuse_to_hide(current, entry)
    # The PUT goes through only if the current object is still the one just judged: a newer
    # upload landing in between makes the server refuse it (412), and the entry is kept.
    condition = {"IfNoneMatch": "*"} if current is None else {"IfMatch": str(current["ETag"])}
    spec = kind_spec(entry.kind)  # entry.json's content type and tag were checked against it
    with open_entry_file(entry_dir, BODY_FILE) as body:
        where = (client, bucket, entry.key, body, spec, entry.metadata)
        try:
            if entry.size <= MAX_SINGLE_PUT:
                # One PUT carrying the sha256: the server refuses it unless the bytes match.
                put_single(*where, entry.checksum_b64, REPLAY_CHECKSUM, condition)
            else:  # multipart takes no condition: judged by the HEAD above only
                put_multipart(*where, transfer_config(), algorithm=REPLAY_CHECKSUM)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "PreconditionFailed":
                raise
            raise SupersededError(
                f"{entry.key} changed on the server while it was replayed (another upload "
                f"landed): kept; the next replay decides again"
            ) from None
    head = _head(client, bucket, entry.key)
    if not _matches(head, entry, strict=False):
        raise VerificationError(
            f"the server reports {head.get('ContentLength') if head else 'no object'} bytes, "
            f"{REPLAY_CHECKSUM.label} {head.get(REPLAY_CHECKSUM.field) if head else None}; "
            f"expected {entry.size} bytes, {entry.checksum_b64}"
        )
    return False


def _refuse_to_hide(current: dict[str, Any] | None, entry: SpoolEntry) -> None:
    """SupersededError when the server's current object was made after the entry (its
    ``uploaded-at``, else its LastModified): the older bytes must not be put over it."""
    if current is None:
        return
    made = parse_object_metadata(entry.metadata).uploaded_at
    stored = {k.lower(): v for k, v in current.get("Metadata", {}).items()}
    theirs: dt.datetime | None
    try:
        theirs = parse_object_metadata(stored).uploaded_at
    except VoiceRecordingsError:  # not one of ours: the server's own time
        theirs = current.get("LastModified")
    # Strictly newer: the same moment is the same recording (an upload whose answer came too
    # late), which replay may store again.
    if theirs is not None and theirs > made:
        raise SupersededError(
            f"the server holds a newer {entry.key} (made {format_timestamp(theirs)}; this spooled "
            f"copy was made {format_timestamp(made)}): replaying it would hide the newer one. "
            f"Kept in the spool. Fix: {FIX_SUPERSEDED}"
        )


def _head(client: S3Client, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        head: dict[str, Any] = dict(
            client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        )
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (403, 404):  # not there (or not visible): the PUT will tell which
            return None
        raise
    return head


def _matches(head: dict[str, Any] | None, entry: SpoolEntry, *, strict: bool) -> bool:
    """Does the server's object hold the entry? ``strict`` demands a full sha256 from the server
    (to skip an upload): an object stored with another checksum (an upload's CRC32) or none is
    not proof. Otherwise (after this replay's own upload) a size match suffices where the server
    keeps no full-object checksum (a multipart upload's is composite), since every part was
    checked on arrival."""
    if head is None or head.get("ContentLength") != entry.size:
        return False
    stored = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
    if any(stored.get(k) != v for k, v in entry.metadata.items()):
        return False
    checksum = head.get(REPLAY_CHECKSUM.field)
    if checksum and "-" not in checksum:
        return bool(checksum == entry.checksum_b64)
    return not strict
