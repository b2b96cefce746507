"""The uploader against the embedded S3 endpoint (authentication on)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from tests.support import GeneratedStream
from voice_recordings import (
    KINDS,
    TRANSCRIPT,
    VOICE,
    ConfigError,
    InvalidInputError,
    MinioUploader,
    StorageError,
    UploadResult,
    bodies,
    parse_key,
    parse_object_metadata,
    recording_key,
)
from voice_recordings.checksums import REPLAY_CHECKSUM, UPLOAD_CHECKSUM
from voice_recordings.transfer import MULTIPART_CHUNK

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


@pytest.fixture
def uploader(embedded_s3: EmbeddedS3, bucket: str) -> MinioUploader:
    return MinioUploader(embedded_s3.settings(bucket=bucket))


def stored(embedded_s3: EmbeddedS3, bucket: str, key: str) -> dict[str, Any]:
    s3 = embedded_s3.s3()
    head = s3.head_object(Bucket=bucket, Key=key)
    return {
        "body": s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
        "content_type": head["ContentType"],
        "metadata": head["Metadata"],
        "etag": head["ETag"],
        "tags": {
            t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        },
    }


def test_specification_snippet_runs_with_only_the_import_changed(
    embedded_s3: EmbeddedS3, bucket: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    for name, value in embedded_s3.env(bucket=bucket).items():
        monkeypatch.setenv(name, value)

    from voice_recordings import get_minio_uploader

    uploader = get_minio_uploader()
    print(f"MinIO available: {uploader.is_available}")

    # Testar upload
    result = uploader.upload_audio(
        audio_data=b"test audio data",
        call_uuid="test-123",
        company_id=1,
    )
    print(f"Upload result: {result}")

    out = capsys.readouterr().out
    assert "MinIO available: True" in out
    assert f"Upload result: {embedded_s3.endpoint_url}/{bucket}/company_1/voice/" in out
    assert (
        requests.get(str(result), timeout=10, verify=embedded_s3.ca_bundle).content
        == b"test audio data"
    )


@pytest.mark.parametrize("kind", [VOICE, TRANSCRIPT])
@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "fileobj"])
def test_round_trip_of_bytes_metadata_tag_and_content_type(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader, kind: str, as_file: bool
) -> None:
    data = b"\x00\xffID3 fake mp3 frame" * 100
    body: Any = io.BytesIO(data) if as_file else data
    upload = uploader.upload_audio if kind == VOICE else uploader.upload_transcript
    result = upload(
        body,
        call_uuid="abc-123-def-456",
        company_id=5,
        domain_uuid="xyz-789",
        secretary_uuid="sec-456",
        when=WHEN,
    )

    assert result.key == parse_key(result.key).key
    assert parse_key(result.key).kind == kind
    assert result.size == len(data) and not result.spooled
    obj = stored(embedded_s3, bucket, result.key)
    assert obj["body"] == data
    assert obj["content_type"] == KINDS[kind].content_type
    assert obj["tags"] == KINDS[kind].tag
    meta = parse_object_metadata(obj["metadata"])
    assert (meta.call_uuid, meta.company_id) == ("abc-123-def-456", 5)
    assert (meta.domain_uuid, meta.secretary_uuid) == ("xyz-789", "sec-456")
    assert abs(meta.uploaded_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_transcript_text_is_stored_as_utf8(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader
) -> None:
    result = uploader.upload_transcript(
        "Olá, ligação encerrada.", call_uuid="abc", company_id=5, when=WHEN
    )
    assert result.key == "company_5/transcripts/2026/01/15/abc.txt"
    assert (
        stored(embedded_s3, bucket, result.key)["body"].decode("utf-8") == "Olá, ligação encerrada."
    )


def test_large_file_object_streams_multipart(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader
) -> None:
    size = 20 * 1024 * 1024
    reader = GeneratedStream(size)
    calls: list[str] = []
    uploader.client.meta.events.register(
        "before-call.s3.*", lambda model, **_: calls.append(model.name)
    )
    result = uploader.upload_audio(
        io.BufferedReader(reader), call_uuid="big-call", company_id=5, when=WHEN
    )

    assert "CreateMultipartUpload" in calls and calls.count("UploadPart") == 3
    assert "PutObject" not in calls
    assert reader.largest_read <= MULTIPART_CHUNK  # never read whole into memory
    obj = stored(embedded_s3, bucket, result.key)
    assert hashlib.sha256(obj["body"]).digest() == reader.sha.digest()
    assert obj["etag"].endswith('-3"')
    assert obj["tags"] == KINDS[VOICE].tag
    assert parse_object_metadata(obj["metadata"]).call_uuid == "big-call"


def test_body_not_matching_its_checksum_is_refused(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader
) -> None:
    def tamper(request: Any, **_: Any) -> None:
        original = request.body.read() if hasattr(request.body, "read") else request.body
        request.body = b"X" + original[1:]  # corrupted on the wire, same length

    uploader.client.meta.events.register("before-send.s3.PutObject", tamper)
    with pytest.raises(StorageError, match="BadDigest"):
        uploader.upload_audio(b"original audio", call_uuid="tampered", company_id=5, when=WHEN)
    listed = embedded_s3.s3().list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "fileobj"])
def test_one_checksum_is_sent_the_upload_checksum_of_the_body_and_echoed(
    bucket: str, uploader: MinioUploader, as_file: bool
) -> None:
    sent: list[dict[str, str]] = []
    echoed: list[str | None] = []
    uploader.client.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.append(
            {k.lower(): v.decode() for k, v in request.headers.items() if isinstance(v, bytes)}
        ),
    )
    uploader.client.meta.events.register(
        "after-call.s3.PutObject",
        lambda parsed, **_: echoed.append(parsed.get(UPLOAD_CHECKSUM.field)),
    )
    body: bytes | io.BytesIO = io.BytesIO(b"audio") if as_file else b"audio"
    uploader.upload_audio(body, call_uuid="checksum", company_id=5, when=WHEN)
    (headers,) = sent
    checksums = {k: v for k, v in headers.items() if k.startswith("x-amz-checksum-")}
    # One checksum, in a header (no aws-chunked trailer botocore would compute a second time).
    assert checksums == {UPLOAD_CHECKSUM.header: UPLOAD_CHECKSUM.b64(b"audio")}
    assert "x-amz-trailer" not in headers
    assert echoed == [UPLOAD_CHECKSUM.b64(b"audio")]  # the server verified it and echoed it


def test_an_echo_of_another_algorithm_is_not_proof(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    # A server that answers with some checksum, even the right SHA-256, but not the CRC32 it
    # was sent, has not shown that it verified what was sent: the recording is spooled.
    spooling = MinioUploader(
        embedded_s3.settings(bucket=bucket, spool_dir=tmp_path, max_attempts=1)
    )

    def swap(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop(UPLOAD_CHECKSUM.field, None)
        parsed[REPLAY_CHECKSUM.field] = REPLAY_CHECKSUM.b64(b"audio")

    spooling.client.meta.events.register_first("after-call.s3.PutObject", swap)
    result = spooling.upload_audio(b"audio", call_uuid="other-echo", company_id=5, when=WHEN)
    assert result.spooled


def test_a_seekable_file_over_the_single_put_limit_goes_multipart(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bodies, "SINGLE_PUT_LIMIT", 16 * 1024 * 1024)  # not 64 MiB of test data
    data = os.urandom(20 * 1024 * 1024)
    calls: list[str] = []
    uploader.client.meta.events.register(
        "before-call.s3.*", lambda model, **_: calls.append(model.name)
    )
    result = uploader.upload_audio(io.BytesIO(data), call_uuid="big-file", company_id=5, when=WHEN)
    assert calls.count("UploadPart") == 3 and "PutObject" not in calls
    assert stored(embedded_s3, bucket, result.key)["body"] == data


@pytest.mark.parametrize("size", [0, 1, 1024**2, MULTIPART_CHUNK, MULTIPART_CHUNK + 2 * 1024**2])
def test_a_file_up_to_the_single_put_limit_streams_in_one_put_with_its_checksum(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader, size: int
) -> None:
    sent: list[dict[str, str]] = []
    uploader.client.meta.events.register(
        "before-send.s3",
        lambda request, **_: sent.append(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else v
                for k, v in request.headers.items()
            }
        ),
    )
    body = os.urandom(size)
    source = io.BytesIO(b"skipped" + body)
    source.seek(len(b"skipped"))  # sent from where the file stands, as s3transfer does
    reads: list[int] = [0]
    read = source.read

    def counted(n: int | None = -1) -> bytes:
        chunk = read(n)
        reads.append(len(chunk))
        return chunk

    source.read = counted  # type: ignore[method-assign]

    result = uploader.upload_audio(source, call_uuid="one-put", company_id=5, when=WHEN)

    (put,) = sent  # one request: no multipart
    assert max(reads) <= 1024 * 1024  # streamed, never read whole into memory
    assert put[UPLOAD_CHECKSUM.header] == UPLOAD_CHECKSUM.b64(body)
    assert result.size == size and not source.closed
    assert stored(embedded_s3, bucket, result.key)["body"] == body


def test_invalid_input_never_reaches_the_server(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader
) -> None:
    with pytest.raises(InvalidInputError, match="call_uuid"):
        uploader.upload_audio(b"x", call_uuid="../../other-company/evil", company_id=5)
    with pytest.raises(InvalidInputError, match="company_id"):
        uploader.upload_audio(b"x", call_uuid="abc", company_id=-5)
    with pytest.raises(InvalidInputError, match="bytes or a binary file object"):
        uploader.upload_audio("not bytes", call_uuid="abc", company_id=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="open the file with 'rb'"):
        uploader.upload_transcript(io.StringIO("texto"), call_uuid="abc", company_id=5)  # type: ignore[arg-type]
    assert embedded_s3.s3().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_presigned_url_plays_and_the_private_bucket_refuses_anonymous(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader
) -> None:
    result = uploader.upload_audio(b"play me", call_uuid="play", company_id=5, when=WHEN)
    ca = embedded_s3.ca_bundle
    assert requests.get(str(result), timeout=10, verify=ca).content == b"play me"
    assert requests.get(uploader.public_url(result.key), timeout=10, verify=ca).status_code == 403
    expired = uploader.presigned_url(result.key, expires_in=1)
    tampered = str(result).replace("company_5", "company_6")
    assert requests.get(tampered, timeout=10, verify=ca).status_code == 403
    import time

    time.sleep(2)
    response = requests.get(expired, timeout=10, verify=ca)
    assert response.status_code == 403 and b"expired" in response.content


def test_awaitable_uploads_do_not_block_the_event_loop(
    embedded_s3: EmbeddedS3, bucket: str, uploader: MinioUploader
) -> None:
    async def scenario() -> tuple[tuple[UploadResult, UploadResult], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        tick_task = asyncio.create_task(ticker())
        results = await asyncio.gather(
            uploader.upload_audio_async(
                b"a" * 5_000_000, call_uuid="async-audio", company_id=5, when=WHEN
            ),
            uploader.upload_transcript_async(
                "texto", call_uuid="async-audio", company_id=5, when=WHEN
            ),
        )
        tick_task.cancel()
        return results, ticks

    results, ticks = asyncio.run(scenario())
    assert [r.key for r in results] == [
        recording_key(5, "async-audio", WHEN),
        "company_5/transcripts/2026/01/15/async-audio.txt",
    ]
    assert ticks > 5  # the loop kept running while the uploads were in flight
    assert stored(embedded_s3, bucket, results[1].key)["body"] == b"texto"


def test_availability_and_bad_credentials(
    embedded_s3: EmbeddedS3, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert MinioUploader(embedded_s3.settings(bucket=bucket)).is_available
    wrong = Credentials(embedded_s3.admin.access_key, "wrong-secret-value")
    bad = MinioUploader(embedded_s3.settings(wrong, bucket=bucket, max_attempts=1))
    assert not bad.is_available
    with pytest.raises(StorageError, match=r"SignatureDoesNotMatch.*MINIO_SECRET_KEY"):
        bad.upload_audio(b"x", call_uuid="abc", company_id=5)
    assert "wrong-secret-value" not in caplog.text


def test_missing_keys_fail_at_start_with_the_specification_message() -> None:
    from voice_recordings import get_minio_uploader

    with pytest.raises(ConfigError, match="MINIO_ACCESS_KEY or MINIO_SECRET_KEY not configured"):
        get_minio_uploader({"MINIO_ENDPOINT": "storage.netplay.net.br"})
