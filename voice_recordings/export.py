"""Exporting a call for its data subject: the current recording and transcript, with metadata.

The access and portability request (LGPD art. 18): each object of the call goes into a
directory beside a JSON file with what the server holds about it (content type, size, date,
version, metadata, tags), and a manifest lists every file with its SHA-256. With keys that may
list (the steward's) the call is found by listing the company's prefix; with keys that may only
read (OmniPlay's reader) the call's UTC date gives the keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from voice_recordings.diagnostics import MISSING_OBJECT_CODES
from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import (
    KINDS,
    company_prefix,
    object_key,
    parse_key,
    validate_company_id,
    validate_token,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MANIFEST: Final = "manifest.json"
CHUNK: Final = 1024 * 1024


@dataclass(frozen=True)
class ExportedFile:
    """One object written out: its key, where it went, its digest."""

    key: str
    path: Path
    sha256: str
    size: int


@dataclass
class Export:
    """What :func:`export_call` wrote."""

    directory: Path
    files: list[ExportedFile] = field(default_factory=list)
    manifest: Path | None = None


def _call_keys(
    client: S3Client, bucket: str, company_id: int, call_uuid: str, day: dt.date | None
) -> list[str]:
    if day is not None:
        when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        return [object_key(kind, company_id, call_uuid, when) for kind in KINDS]
    keys = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=company_prefix(company_id)):
        for item in page.get("Contents", []):
            try:
                parsed = parse_key(item["Key"])
            except InvalidInputError:
                continue
            if parsed.company_id == company_id and parsed.call_uuid == call_uuid:
                keys.append(item["Key"])
    return sorted(keys)


def _download(client: S3Client, bucket: str, key: str, target: Path) -> tuple[dict[str, Any], str]:
    answer = client.get_object(Bucket=bucket, Key=key)
    digest = hashlib.sha256()
    partial = target.with_name(f".{target.name}.partial")
    with open(partial, "wb") as sink:
        for chunk in answer["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
            sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    partial.replace(target)
    return dict(answer), digest.hexdigest()


def export_call(
    client: S3Client,
    bucket: str,
    *,
    company_id: int,
    call_uuid: str,
    directory: Path,
    day: dt.date | None = None,
) -> Export:
    """Write the call's current objects, their metadata and a manifest into ``directory``."""
    company = validate_company_id(company_id)
    call = validate_token("call_uuid", call_uuid)
    directory.mkdir(parents=True, exist_ok=True)
    result = Export(directory)
    manifest: list[dict[str, Any]] = []
    for key in _call_keys(client, bucket, company, call, day):
        target = directory / key.rsplit("/", 1)[-1]
        try:
            answer, sha256 = _download(client, bucket, key, target)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
                continue  # with --day: this kind was not stored for the call
            raise
        try:
            tags = {
                t["Key"]: t["Value"]
                for t in client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
            }
        except ClientError:
            tags = {}  # keys that may read objects but not their tags (the reader's)
        about = {
            "key": key,
            "file": target.name,
            "sha256": sha256,
            "size": int(answer.get("ContentLength", target.stat().st_size)),
            "content_type": answer.get("ContentType"),
            "last_modified": answer["LastModified"].astimezone(dt.UTC).isoformat(),
            "version_id": answer.get("VersionId"),
            "metadata": answer.get("Metadata", {}),
            "tags": tags,
        }
        (directory / f"{target.name}.json").write_text(
            json.dumps(about, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        result.files.append(ExportedFile(key, target, sha256, about["size"]))
        manifest.append({"file": target.name, "key": key, "sha256": sha256, "size": about["size"]})
    if result.files:
        result.manifest = directory / MANIFEST
        result.manifest.write_text(
            json.dumps(
                {"company_id": company, "call_uuid": call, "bucket": bucket, "files": manifest},
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return result
