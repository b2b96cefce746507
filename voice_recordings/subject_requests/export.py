"""Exporting a call for its data subject: every stored version of its recording and transcript.

The access and portability request (LGPD art. 18): each object version of the call goes into a
directory beside a JSON file with what the server holds about it (content type, size, date,
version, metadata, tags), and a manifest lists every file with the SHA-256 of the bytes written
and what was not exported and why. With keys that may list versions (the steward's) every
version is found, those behind a delete marker included; keys that may only read (OmniPlay's
reader) cannot list at all, so the call's UTC date (``day``) gives the keys and only their
current versions are read.

The directory may be shared or planted with links: it is opened without following a link, and
every file is created fresh (``O_CREAT|O_EXCL|O_NOFOLLOW``, 0600) relative to that open
directory, so nothing outside it and nothing already in it is ever written.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from voice_recordings.diagnostics import ACCESS_DENIED_CODES, MISSING_OBJECT_CODES, diagnose
from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import (
    KINDS,
    company_prefix,
    object_key,
    parse_key,
    validate_company_id,
    validate_token,
)
from voice_recordings.private_dirs import make_private_dirs
from voice_recordings.subject_requests.export_manifest import (
    MANIFEST,
    STATUS_COMPLETE,
    STATUS_FAILED,
    STATUS_IN_PROGRESS,
    STATUS_INCOMPLETE,
    STATUS_INTERRUPTED,
    ManifestWriter,
    write_new,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CHUNK: Final = 1024 * 1024
_DIRECTORY_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEEDS_DAY: Final = (
    "these keys may not list the bucket (OmniPlay's reader may only read objects): give the "
    "call's UTC date with --day YYYY-MM-DD (its current recording and transcript are exported), "
    "or export every version with the steward's keys"
)


@dataclass(frozen=True)
class ExportedFile:
    """One object version written out: its key and version, where it went, its digest."""

    key: str
    version_id: str | None
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class NotExported:
    """What was not exported and why; ``problem`` when it makes the export incomplete."""

    key: str
    version_id: str | None
    reason: str
    problem: bool


@dataclass
class Export:
    """What :func:`export_call` wrote, and what it did not."""

    directory: Path
    files: list[ExportedFile] = field(default_factory=list)
    not_exported: list[NotExported] = field(default_factory=list)
    manifest: Path | None = None

    @property
    def complete(self) -> bool:
        """True when something was exported and nothing was left out by a problem."""
        return bool(self.files) and not any(item.problem for item in self.not_exported)


@dataclass(frozen=True)
class _Wanted:
    """One version to export (``version_id`` None: the current one, by key)."""

    key: str
    version_id: str | None
    behind_delete_marker: bool = False


def open_target(directory: Path) -> int:
    """Open ``directory`` without following a link; its descriptor. It and each missing parent
    are made 0700 whatever the umask; a directory that existed keeps its mode."""
    try:
        make_private_dirs(directory)
        return os.open(directory, _DIRECTORY_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise InvalidInputError(
                f"--to {directory}: a link or a file is there, not a directory; name a new or "
                f"empty directory"
            ) from None
        raise InvalidInputError(
            f"--to {directory}: cannot be opened ({exc.strerror}); name a directory you may write"
        ) from None


def _json_bytes(document: object) -> list[bytes]:
    return [(json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")]


def _listed(
    client: S3Client, bucket: str, company_id: int, call_uuid: str
) -> tuple[list[_Wanted], list[NotExported]]:
    """Every version of the call's objects, and its delete markers (reported, no bytes)."""
    versions: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    paginator = client.get_paginator("list_object_versions")
    try:
        for page in paginator.paginate(Bucket=bucket, Prefix=company_prefix(company_id)):
            versions.extend(dict(v) for v in page.get("Versions", []) if _of_call(v, call_uuid))
            markers.extend(dict(m) for m in page.get("DeleteMarkers", []) if _of_call(m, call_uuid))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ACCESS_DENIED_CODES:
            raise InvalidInputError(NEEDS_DAY) from None
        raise
    hidden = {m["Key"] for m in markers if m.get("IsLatest")}
    wanted = [
        _Wanted(v["Key"], v.get("VersionId"), v["Key"] in hidden)
        for v in sorted(versions, key=lambda v: (v["Key"], v["LastModified"]))
    ]
    skipped = [
        NotExported(m["Key"], m.get("VersionId"), "a delete marker: it holds no bytes", False)
        for m in markers
    ]
    return wanted, skipped


def _of_call(item: Mapping[str, Any], call_uuid: str) -> bool:
    try:
        return parse_key(item["Key"]).call_uuid == call_uuid
    except InvalidInputError:
        return False  # outside the key layout: no call's


def _by_day(company_id: int, call_uuid: str, day: dt.date) -> list[_Wanted]:
    when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return [_Wanted(object_key(kind, company_id, call_uuid, when), None) for kind in KINDS]


_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")


def _file_name(key: str, version_id: str | None, used: set[str]) -> str:
    """``2026-03-04_voice_<version>_<call>.mp3``: distinct per date, kind and version (one call
    stored under two dates, or in two versions, is two files)."""
    parsed = parse_key(key)
    version = _UNSAFE.sub("_", version_id or "current")[:64]
    base = f"{parsed.date.isoformat()}_{parsed.kind}_{version}_{key.rsplit('/', 1)[-1]}"
    name, n = base, 1
    while name in used or name == MANIFEST:
        n += 1
        name = f"{n}-{base}"
    used.add(name)
    return name


def _tags(client: S3Client, bucket: str, wanted: _Wanted) -> dict[str, str] | None:
    extra: dict[str, Any] = {"VersionId": wanted.version_id} if wanted.version_id else {}
    try:
        answer = client.get_object_tagging(Bucket=bucket, Key=wanted.key, **extra)
    except ClientError:
        return None  # keys that may read objects but not their tags (the reader's)
    return {t["Key"]: t["Value"] for t in answer["TagSet"]}


def _chunks(answer: dict[str, Any]) -> Iterator[bytes]:
    yield from answer["Body"].iter_chunks(CHUNK)


def _is_delete_marker(exc: ClientError) -> bool:
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return str(headers.get("x-amz-delete-marker", "")).lower() == "true"


def _missing_reason(client: S3Client, bucket: str, key: str, exc: ClientError) -> str:
    """Why a key's current version cannot be read: a delete marker hides it, or nothing is
    stored. A GET's 404 may not say (some servers say it only to a HEAD), so a HEAD asks."""
    hidden = _is_delete_marker(exc)
    if not hidden:
        try:
            client.head_object(Bucket=bucket, Key=key)
        except ClientError as head:
            hidden = _is_delete_marker(head)
    if hidden:
        return (
            "its current version is a delete marker; older versions may remain, which only keys "
            "that list versions can export (the steward's)"
        )
    return "nothing is stored under this key"


@dataclass
class _Run:
    """One export under way: where it writes, what it wrote, and its manifest."""

    client: S3Client
    bucket: str
    dir_fd: int
    result: Export
    manifest: ManifestWriter
    used: set[str] = field(default_factory=set)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(self, status: str, writing: str | None = None) -> None:
        """Rewrite the manifest: ``status``, the files written so far, what was not exported.
        A manifest already in the target is never replaced: reported, and none is kept."""
        if self.result.manifest is None and self.manifest.written:
            return  # another export's manifest was there
        not_exported = [
            {"key": n.key, "version_id": n.version_id, "reason": n.reason}
            for n in self.result.not_exported
        ]
        try:
            self.manifest.write(status, self.entries, not_exported, writing)
        except FileExistsError:
            self.manifest.written = True
            self.result.not_exported.append(
                NotExported(MANIFEST, None, f"{MANIFEST} was already in the directory", True)
            )
            return
        self.result.manifest = self.result.directory / MANIFEST


def _export_one(run: _Run, wanted: _Wanted) -> None:
    """Write one version and its JSON, named in the manifest before and listed after; what
    was not written is recorded in ``run.result``."""
    client, bucket, dir_fd, result = run.client, run.bucket, run.dir_fd, run.result
    tags = _tags(client, bucket, wanted)
    extra: dict[str, Any] = {"VersionId": wanted.version_id} if wanted.version_id else {}
    try:
        answer: dict[str, Any] = dict(client.get_object(Bucket=bucket, Key=wanted.key, **extra))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
            reason, problem = _missing_reason(client, bucket, wanted.key, exc), False
        else:
            # S3 refused this version (e.g. Access Denied): the others still go out, and the
            # report says which one did not; a connection or an impostor raises on.
            reason, problem = f"the server refused it: {diagnose(exc)}", True
        result.not_exported.append(NotExported(wanted.key, wanted.version_id, reason, problem))
        return
    version_id = answer.get("VersionId") or wanted.version_id
    name = _file_name(wanted.key, version_id, run.used)
    run.record(STATUS_IN_PROGRESS, writing=name)
    written: list[str] = []
    try:
        sha256, size = write_new(dir_fd, name, _chunks(answer))
        written.append(name)
        about = _about(wanted, answer, name, sha256, size, tags, version_id)
        write_new(dir_fd, f"{name}.json", _json_bytes(about))
    except BaseException as exc:
        # Half an object is none: its file goes too, so the manifest matches what is there.
        for ours in written:
            os.unlink(ours, dir_fd=dir_fd)
        if not isinstance(exc, FileExistsError):
            raise
        result.not_exported.append(
            NotExported(
                wanted.key,
                version_id,
                f"{name} (or its .json) was already in the directory and is never overwritten: "
                f"export into a new directory",
                True,
            )
        )
        return
    result.files.append(ExportedFile(wanted.key, version_id, result.directory / name, sha256, size))
    run.entries.append(
        {"file": name, "key": wanted.key, "version_id": version_id, "sha256": sha256, "size": size}
    )
    run.record(STATUS_IN_PROGRESS)


def _about(
    wanted: _Wanted,
    answer: dict[str, Any],
    name: str,
    sha256: str,
    size: int,
    tags: dict[str, str] | None,
    version_id: str | None,
) -> dict[str, Any]:
    return {
        "key": wanted.key,
        "file": name,
        "sha256": sha256,
        "size": size,
        "content_type": answer.get("ContentType"),
        "last_modified": answer["LastModified"].astimezone(dt.UTC).isoformat(),
        "version_id": version_id,
        "behind_delete_marker": wanted.behind_delete_marker,
        "metadata": answer.get("Metadata", {}),
        "tags": tags,  # None: these keys may not read tags
    }


def export_call(
    client: S3Client,
    bucket: str,
    *,
    company_id: int,
    call_uuid: str,
    directory: Path,
    day: dt.date | None = None,
) -> Export:
    """Write every version of the call's objects (with ``day``: the current ones of that UTC
    date), their metadata and a manifest into ``directory``, creating only fresh files there.

    Raises InvalidInputError for a target that is not a directory, or keys that cannot list
    without ``day``."""
    company = validate_company_id(company_id)
    call = validate_token("call_uuid", call_uuid)
    dir_fd = open_target(directory)
    try:
        return _export_into(client, bucket, company, call, directory, dir_fd, day)
    finally:
        os.close(dir_fd)


def _export_into(
    client: S3Client,
    bucket: str,
    company: int,
    call: str,
    directory: Path,
    dir_fd: int,
    day: dt.date | None,
) -> Export:
    result = Export(directory)
    if day is None:
        wanted, skipped = _listed(client, bucket, company, call)
        result.not_exported.extend(skipped)
    else:
        wanted = _by_day(company, call, day)
    header = {"company_id": company, "call_uuid": call, "bucket": bucket}
    run = _Run(client, bucket, dir_fd, result, ManifestWriter(dir_fd, header))
    try:
        for item in wanted:
            _export_one(run, item)
    except BaseException as exc:
        # Cut off (Ctrl-C, an error): the manifest says so and lists exactly what is there.
        if run.manifest.written:
            stopped = STATUS_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else STATUS_FAILED
            run.record(stopped)
        raise
    if run.manifest.written:
        run.record(STATUS_COMPLETE if result.complete else STATUS_INCOMPLETE)
    return result
