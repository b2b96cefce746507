"""tag-existing: set the ``kind`` tag on stored recordings and transcripts that lack it.

Only S3's ``PutObjectTagging`` is called (keeping any other tag): bytes, metadata and version ids
stay as they are. A second run finds nothing to do, so an interrupted run resumes by running again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from infra.takeover.findings import as_json
from infra.takeover.server import (
    DEFAULT_CONCURRENCY,
    DEFAULT_SAMPLE,
    MAX_CONCURRENCY,
    StoredObject,
    TakeoverError,
    bucket_exists,
    error_code,
    keep_sample,
    scan,
    version_kwargs,
)
from voice_recordings import KIND_TAG_KEY

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_TAGS: Final = 10  # S3 and MinIO allow at most 10 tags per object


@dataclass
class TagReport:
    """What one tag-existing run found and did."""

    applied: bool
    scanned: int = 0
    tagged: int = 0
    to_tag: int = 0  # dry run: would be tagged
    already_tagged: int = 0
    nonconforming_count: int = 0
    nonconforming: list[str] = field(default_factory=list)
    vanished: int = 0
    failed: list[str] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As a JSON object."""
        return as_json(
            self, nonconforming_count="nonconforming", nonconforming="nonconforming_keys"
        )


def _tag(s3: S3Client, bucket: str, item: StoredObject) -> str | None:
    """Add ``kind`` to the object's tags (keeping the others); an error message, or None."""
    assert item.expected is not None
    tags = {**item.tags, KIND_TAG_KEY: item.expected}
    if len(tags) > MAX_TAGS:
        return f"{item.label}: already has {MAX_TAGS} tags, no room for {KIND_TAG_KEY}"
    try:
        s3.put_object_tagging(
            Bucket=bucket,
            Key=item.key,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]},
            **version_kwargs(item.version_id),
        )
    except ClientError as exc:
        return f"{item.label}: {error_code(exc) or exc}"
    return None


def tag_existing(
    s3: S3Client,
    bucket: str,
    *,
    apply: bool,
    concurrency: int = DEFAULT_CONCURRENCY,
    sample: int = DEFAULT_SAMPLE,
    progress: Callable[[TagReport], None] | None = None,
) -> TagReport:
    """Tag every conforming object version of ``bucket`` that has no ``kind`` tag.

    Dry run unless ``apply``. Only ``PutObjectTagging`` is called: bytes, metadata and version
    ids stay as they are. Objects that already have a ``kind`` tag are left alone, so a second run
    does nothing and an interrupted run resumes by running again.
    """
    report = TagReport(applied=apply)
    if not bucket_exists(s3, bucket):
        raise TakeoverError(f"bucket {bucket!r} does not exist on the server: nothing to tag")
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:

        def handle(item: StoredObject) -> None:
            error = _tag(s3, bucket, item) if apply else None
            with lock:
                if error is not None:
                    report.failed.append(error)
                elif apply:
                    report.tagged += 1
                else:
                    report.to_tag += 1

        pending: list[StoredObject] = []
        for item in scan(s3, bucket, pool):
            if not isinstance(item, StoredObject):
                report.vanished += 1
                continue
            report.scanned += 1
            if not item.conforming:
                report.nonconforming_count += 1
                keep_sample(report.nonconforming, item.label, sample)
            elif not item.untagged:
                report.already_tagged += 1
            else:
                keep_sample(report.sample, item.label, sample)
                pending.append(item)
            if len(pending) >= MAX_CONCURRENCY * 4:
                list(pool.map(handle, pending))
                pending.clear()
                if progress is not None:
                    progress(report)
        list(pool.map(handle, pending))
    if progress is not None:
        progress(report)
    return report
