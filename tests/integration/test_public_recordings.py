"""The opt-in public-URL flow: anonymous GET of recordings only, never transcripts or listing.

The ``dev`` stack with ``publicRecordings`` and its acknowledgement, deployed by ``pulumi up`` on
an embedded endpoint. Anonymous requests are evaluated against the bucket policy by our middleware
(``devtools/endpoint/request_auth.py``), not by moto; a real MinIO is tested as deployed (its
stack is not public by default), so this module skips there.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from infra.render_format import BUCKET_POLICY
from tests.support import Target
from voice_recordings import MinioUploader, UploadResult

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
AUDIO = b"ID3 public recording" * 50


@pytest.fixture(scope="module")
def public_uploader(public_target: Target) -> MinioUploader:
    # The stack's voice_ai_env says MINIO_URL_MODE=public when recordings are public.
    return MinioUploader(public_target.settings(public_target.uploader, url_mode="public"))


@pytest.fixture(scope="module")
def uploaded(public_uploader: MinioUploader, company_id: int) -> tuple[UploadResult, UploadResult]:
    return (
        public_uploader.upload_audio(
            AUDIO, call_uuid="public-call", company_id=company_id, when=WHEN
        ),
        public_uploader.upload_transcript(
            "texto privado", call_uuid="public-call", company_id=company_id, when=WHEN
        ),
    )


def test_the_render_opted_in_and_the_server_holds_its_bucket_policy(
    public_target: Target,
) -> None:
    assert public_target.render["outputs"]["public_recordings"] is True
    (resource,) = [r for r in public_target.render["resources"] if r["type"] == BUCKET_POLICY]
    admin = public_target.s3(public_target.admin)
    on_server = json.loads(admin.get_bucket_policy(Bucket=public_target.bucket)["Policy"])
    assert on_server == resource["inputs"]["policy"]


def test_public_url_of_a_recording_plays_anonymously(
    public_target: Target, uploaded: tuple[UploadResult, UploadResult]
) -> None:
    recording, _ = uploaded
    assert str(recording) == recording.url and "X-Amz-Signature" not in recording.url
    response = public_target.http.get(recording.url, timeout=10)
    assert response.status_code == 200
    assert response.content == AUDIO


def test_transcripts_stay_private(
    public_target: Target, uploaded: tuple[UploadResult, UploadResult]
) -> None:
    _, transcript = uploaded
    response = public_target.http.get(transcript.url, timeout=10)
    assert response.status_code == 403 and b"AccessDenied" in response.content


@pytest.mark.parametrize("query", ["", "?list-type=2", "?list-type=2&prefix=company_"])
def test_anonymous_listing_is_denied(public_target: Target, query: str) -> None:
    url = f"{public_target.endpoint_url}/{public_target.bucket}{query}"
    response = public_target.http.get(url, timeout=10)
    assert response.status_code == 403 and b"AccessDenied" in response.content


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_anonymous_writes_are_denied(
    public_target: Target, uploaded: tuple[UploadResult, UploadResult], method: str
) -> None:
    recording, _ = uploaded
    response = public_target.http.request(method, recording.url, data=b"x", timeout=10)
    assert response.status_code == 403 and b"AccessDenied" in response.content
