"""Least privilege, proven on a live endpoint: each identity can do its job and nothing else.

The stack is rendered fresh and provisioned on the embedded S3+IAM endpoint (moto's server with
authentication on), or the tests run against a real MinIO (see ``conftest.py``). Every request
below is signed by the identity the render created, and the server evaluates its policy.

Known differences between the embedded endpoint and MinIO (the tests hold on both, but these
behaviours are only proven on a real MinIO):

- moto does not demand ``s3:PutObjectTagging`` for a tagged PUT (MinIO does): on the embedded
  endpoint, removing that action from the policy would not make an upload fail.
- moto does not run lifecycle expiry: the lifecycle *configuration* is compared, not its effect.
- presigned URLs, anonymous requests (bucket policies for principal ``*``) and checksum
  verification are evaluated by our middleware (``devtools/endpoint/request_auth.py``), not by moto.
- MinIO serves no AWS IAM API: the IAM cases run on the embedded endpoint only (skipped, with
  the reason, on a real MinIO).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.config import full_key
from tests.support import Target
from voice_recordings import (
    KINDS,
    TRANSCRIPT,
    VOICE,
    MinioUploader,
    UploadResult,
    company_prefix,
    parse_key,
    parse_object_metadata,
)

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 16
TRANSCRIPT_TEXT = "Atendente virtual: Olá! Cliente: Quero falar com o suporte."


def error_code(call: Callable[[], Any]) -> str:
    """Run ``call``; return the S3/IAM error code it failed with (fail the test if it worked)."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    pytest.fail("the request succeeded, but the identity must not be allowed to do it")


@dataclass(frozen=True)
class Stored:
    """A recording and its transcript, uploaded by the Voice AI identity."""

    recording: UploadResult
    transcript: UploadResult


@pytest.fixture(scope="module")
def uploader(target: Target) -> MinioUploader:
    return target.uploader_client()


@pytest.fixture(scope="module")
def stored(uploader: MinioUploader, company_id: int) -> Stored:
    call = f"stored-{company_id}"
    return Stored(
        uploader.upload_audio(
            AUDIO,
            call_uuid=call,
            company_id=company_id,
            domain_uuid="dom-1",
            secretary_uuid="sec-1",
            when=WHEN,
        ),
        uploader.upload_transcript(
            TRANSCRIPT_TEXT,
            call_uuid=call,
            company_id=company_id,
            domain_uuid="dom-1",
            secretary_uuid="sec-1",
            when=WHEN,
        ),
    )


# -- the uploader does everything the runtime package does ------------------------------------


def test_uploader_sees_the_bucket(uploader: MinioUploader) -> None:
    assert uploader.is_available


def test_uploader_stores_recording_and_transcript_with_metadata_and_tag(
    target: Target, uploader: MinioUploader, company_id: int, call_uuid: str
) -> None:
    recording = uploader.upload_audio(
        AUDIO,
        call_uuid=call_uuid,
        company_id=company_id,
        domain_uuid="dom-1",
        secretary_uuid="sec-1",
        when=WHEN,
    )
    transcript = uploader.upload_transcript(
        TRANSCRIPT_TEXT,
        call_uuid=call_uuid,
        company_id=company_id,
        domain_uuid="dom-1",
        secretary_uuid="sec-1",
        when=WHEN,
    )

    for result, kind, body in (
        (recording, VOICE, AUDIO),
        (transcript, TRANSCRIPT, TRANSCRIPT_TEXT.encode()),
    ):
        assert not result.spooled
        assert parse_key(result.key).kind == kind
        got = uploader.client.get_object(Bucket=target.bucket, Key=result.key)
        assert got["Body"].read() == body
        assert got["ContentType"] == KINDS[kind].content_type
        assert got.get("TagCount") == len(KINDS[kind].tag)  # the kind tag went with the PUT
        meta = parse_object_metadata(got["Metadata"])
        assert (meta.call_uuid, meta.company_id) == (call_uuid, company_id)
        assert (meta.domain_uuid, meta.secretary_uuid) == ("dom-1", "sec-1")


def test_stored_objects_carry_the_kind_tag_lifecycle_selects_by(
    target: Target, stored: Stored
) -> None:
    admin = target.s3(target.admin)  # the uploader may not read tags back (least privilege)
    for result in (stored.recording, stored.transcript):
        tags = admin.get_object_tagging(Bucket=target.bucket, Key=result.key)["TagSet"]
        assert {t["Key"]: t["Value"] for t in tags} == KINDS[result.kind].tag


def test_uploader_lists_its_company_prefix(
    target: Target, uploader: MinioUploader, stored: Stored, company_id: int
) -> None:
    listed = uploader.client.list_objects_v2(
        Bucket=target.bucket, Prefix=company_prefix(company_id)
    )
    keys = {item["Key"] for item in listed.get("Contents", [])}
    assert {stored.recording.key, stored.transcript.key} <= keys


def test_presigned_url_from_the_uploader_plays(
    target: Target, uploader: MinioUploader, stored: Stored
) -> None:
    response = target.http.get(uploader.presigned_url(stored.recording.key), timeout=10)
    assert response.status_code == 200
    assert response.content == AUDIO


# -- ... and nothing else ---------------------------------------------------------------------

_LIFECYCLE = {
    "Rules": [
        {"ID": "erase-everything", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}
    ]
}
_OPEN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
}

# name -> what the uploader tries, as (s3 client, target, stored key, other bucket).
S3_FORBIDDEN: dict[str, Callable[[Any, Target, str, str], Any]] = {
    "delete object": lambda s3, t, key, other: s3.delete_object(Bucket=t.bucket, Key=key),
    "delete bucket": lambda s3, t, key, other: s3.delete_bucket(Bucket=t.bucket),
    "put bucket policy": lambda s3, t, key, other: s3.put_bucket_policy(
        Bucket=t.bucket, Policy=json.dumps(_OPEN_POLICY)
    ),
    "delete bucket policy": lambda s3, t, key, other: s3.delete_bucket_policy(Bucket=t.bucket),
    "change lifecycle": lambda s3, t, key, other: s3.put_bucket_lifecycle_configuration(
        Bucket=t.bucket, LifecycleConfiguration=_LIFECYCLE
    ),
    "delete lifecycle": lambda s3, t, key, other: s3.delete_bucket_lifecycle(Bucket=t.bucket),
    "suspend versioning": lambda s3, t, key, other: s3.put_bucket_versioning(
        Bucket=t.bucket, VersioningConfiguration={"Status": "Suspended"}
    ),
    "create a bucket": lambda s3, t, key, other: s3.create_bucket(Bucket=f"{t.bucket}-new"),
    "list buckets": lambda s3, t, key, other: s3.list_buckets(),
    "list old versions": lambda s3, t, key, other: s3.list_object_versions(Bucket=t.bucket),
    "read tags back": lambda s3, t, key, other: s3.get_object_tagging(Bucket=t.bucket, Key=key),
    "read another bucket": lambda s3, t, key, other: s3.get_object(
        Bucket=other, Key="company_1/voice/secret.mp3"
    ),
    "write another bucket": lambda s3, t, key, other: s3.put_object(
        Bucket=other, Key="company_1/voice/planted.mp3", Body=b"x"
    ),
    "list another bucket": lambda s3, t, key, other: s3.list_objects_v2(Bucket=other),
}


@pytest.fixture
def victim(uploader: MinioUploader, company_id: int, call_uuid: str) -> str:
    """A recording of its own per test: an attempt that wrongly succeeds harms no other test."""
    return uploader.upload_audio(AUDIO, call_uuid=call_uuid, company_id=company_id, when=WHEN).key


@pytest.mark.parametrize("action", sorted(S3_FORBIDDEN))
def test_uploader_is_denied(target: Target, victim: str, other_bucket: str, action: str) -> None:
    s3 = target.s3(target.uploader)
    attempt = S3_FORBIDDEN[action]
    assert error_code(lambda: attempt(s3, target, victim, other_bucket)) == "AccessDenied"


def test_uploader_cannot_bulk_delete(target: Target, victim: str) -> None:
    # DeleteObjects answers 200 and reports each refused key (S3's and MinIO's behaviour).
    s3 = target.s3(target.uploader)
    answer = s3.delete_objects(Bucket=target.bucket, Delete={"Objects": [{"Key": victim}]})
    assert [(e["Key"], e["Code"]) for e in answer.get("Errors", [])] == [(victim, "AccessDenied")]
    assert not answer.get("Deleted")
    assert s3.get_object(Bucket=target.bucket, Key=victim)["Body"].read() == AUDIO


IAM_FORBIDDEN: dict[str, Callable[[Any, Target], Any]] = {
    "list users": lambda iam, t: iam.list_users(),
    "create user": lambda iam, t: iam.create_user(UserName="intruder"),
    "create access key": lambda iam, t: iam.create_access_key(UserName=_uploader_user(t)),
    "attach a policy": lambda iam, t: iam.attach_user_policy(
        UserName=_uploader_user(t), PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    ),
    "list policies": lambda iam, t: iam.list_policies(),
}


def _uploader_user(target: Target) -> str:
    """The IAM user behind the uploader's service account (escalating it is the danger)."""
    return str(target.render["config"][full_key("uploaderUser")])


@pytest.mark.parametrize("action", sorted(IAM_FORBIDDEN))
def test_uploader_is_denied_iam(target: Target, action: str) -> None:
    iam = target.iam(target.uploader)
    assert error_code(lambda: IAM_FORBIDDEN[action](iam, target)) == "AccessDenied"


# -- OmniPlay's reader: plays recordings, nothing else ----------------------------------------


def test_reader_gets_a_recording(target: Target, stored: Stored) -> None:
    s3 = target.s3(target.reader)
    assert s3.get_object(Bucket=target.bucket, Key=stored.recording.key)["Body"].read() == AUDIO


def test_reader_presigned_url_plays(target: Target, stored: Stored) -> None:
    reader = MinioUploader(target.settings(target.reader))
    response = target.http.get(reader.presigned_url(stored.recording.key), timeout=10)
    assert response.status_code == 200
    assert response.content == AUDIO


READER_FORBIDDEN: dict[str, Callable[[Any, Target, str], Any]] = {
    "put": lambda s3, t, key: s3.put_object(Bucket=t.bucket, Key=key, Body=b"overwritten"),
    "delete": lambda s3, t, key: s3.delete_object(Bucket=t.bucket, Key=key),
    "list": lambda s3, t, key: s3.list_objects_v2(Bucket=t.bucket),
}


@pytest.mark.parametrize("action", sorted(READER_FORBIDDEN))
def test_reader_is_denied(target: Target, stored: Stored, action: str) -> None:
    s3 = target.s3(target.reader)
    attempt = READER_FORBIDDEN[action]
    assert error_code(lambda: attempt(s3, target, stored.recording.key)) == "AccessDenied"


def test_presigned_url_from_the_reader_cannot_upload(target: Target, stored: Stored) -> None:
    s3 = target.s3(target.reader)
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": target.bucket, "Key": stored.recording.key}
    )
    response = target.http.put(url, data=b"overwritten", timeout=10)
    assert response.status_code == 403 and b"AccessDenied" in response.content


# -- nobody else ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [VOICE, TRANSCRIPT])
def test_anonymous_get_is_denied_by_default(target: Target, stored: Stored, kind: str) -> None:
    if target.render["outputs"]["public_recordings"] and kind == VOICE:
        pytest.skip("this stack opted into public recordings")
    key = stored.recording.key if kind == VOICE else stored.transcript.key
    response = target.http.get(f"{target.endpoint_url}/{target.bucket}/{key}", timeout=10)
    assert response.status_code == 403 and b"AccessDenied" in response.content


def test_anonymous_listing_is_denied(target: Target) -> None:
    response = target.http.get(f"{target.endpoint_url}/{target.bucket}?list-type=2", timeout=10)
    assert response.status_code == 403 and b"AccessDenied" in response.content
