"""An upload cut by the deadline aborts the multipart upload it started (issue 26.8), as the
stack's uploader (its grant allows the abort): nothing of it is kept on the server, and the
caller does not wait for the abort.

The deadline's hooks refuse every request of the upload once it has passed, s3transfer's own
cleanup abort included; before this, the started upload and its parts stayed on the server.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    GeneratedStream,
    Target,
    deployed_target,
    minio_target,
    real_minio_configured,
)
from voice_recordings import MinioUploader
from voice_recordings.transfer import MULTIPART_CHUNK

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
DEADLINE = 1.0


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> Target:
    """One stack (the uploader's grant is the same in every stack)."""
    if real_minio_configured():
        return minio_target()
    return deployed_target(request.getfixturevalue("dev_deployment"))


class StallAfterFirstPart(GeneratedStream):
    """A stream (a pipe from the recorder) that stalls past the deadline once the multipart
    upload has started: s3transfer reads the first part, starts the upload, then waits here."""

    def __init__(self, size: int, stall: float) -> None:
        super().__init__(size)
        self.stall, self.read_so_far = stall, 0

    def readinto(self, buffer: Any) -> int:
        if self.read_so_far >= MULTIPART_CHUNK and self.stall:
            time.sleep(self.stall)
            self.stall = 0.0
        n = super().readinto(buffer)
        self.read_so_far += n
        return n


def _uploads(target: Target, key: str) -> list[str]:
    answer = target.s3(target.admin).list_multipart_uploads(Bucket=target.bucket, Prefix=key)
    return [u["UploadId"] for u in answer.get("Uploads", []) if u["Key"] == key]


def test_an_upload_cut_by_the_deadline_aborts_its_multipart_upload(
    target: Target, tmp_path: Path
) -> None:
    settings = target.settings(
        target.uploader, upload_deadline=DEADLINE, spool_dir=tmp_path / "spool"
    )
    uploader = MinioUploader(settings)
    stream = StallAfterFirstPart(3 * MULTIPART_CHUNK, stall=DEADLINE + 0.5)
    try:
        result = uploader.upload_audio(
            io.BufferedReader(stream), call_uuid="cut-short", company_id=9301, when=WHEN
        )
        assert result.spooled
        until = time.monotonic() + 10
        while _uploads(target, result.key) and time.monotonic() < until:
            time.sleep(0.1)
        assert _uploads(target, result.key) == [], "the cut upload was left on the server"
    finally:
        uploader.close()
