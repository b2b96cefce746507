"""The embedded endpoint verifies a checksum in a header (the uploader's CRC32, replay's SHA-256)
or in an aws-chunked trailer (boto3's default over TLS), as MinIO does, and refuses two."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.endpoint.embedded_s3 import EmbeddedS3
from voice_recordings.checksums import (
    CRC32,
    REPLAY_CHECKSUM,
    SHA256,
    UPLOAD_CHECKSUM,
    ChecksumAlgorithm,
)


def test_a_trailing_checksum_is_verified_as_minio_does(
    embedded_s3: EmbeddedS3, bucket: str
) -> None:
    # boto3's default over TLS: a CRC32 in an aws-chunked trailer. Right bytes are stored...
    s3 = embedded_s3.s3()
    body = os.urandom(3 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="trailer/ok", Body=body)
    assert s3.get_object(Bucket=bucket, Key="trailer/ok")["Body"].read() == body

    def flip_first_data_byte(request: Any, **_: Any) -> None:
        read, flipped = request.body.read, [False]

        def tampered(size: int | None = None) -> bytes:
            chunk: bytes = read(size)
            if not flipped[0] and b"\r\n" in chunk[:-1]:
                flipped[0] = True
                i = chunk.index(b"\r\n") + 2
                chunk = chunk[:i] + bytes([chunk[i] ^ 1]) + chunk[i + 1 :]
            return chunk

        request.body.read = tampered

    # ...bytes changed on the wire under their trailer are refused.
    s3.meta.events.register("before-send.s3.PutObject", flip_first_data_byte)
    with pytest.raises(ClientError, match="BadDigest"):
        s3.put_object(Bucket=bucket, Key="trailer/bad", Body=b"recording" * 100)


@pytest.mark.parametrize("algorithm", [UPLOAD_CHECKSUM, REPLAY_CHECKSUM], ids=["crc32", "sha256"])
def test_a_caller_given_checksum_that_does_not_match_is_refused(
    embedded_s3: EmbeddedS3, bucket: str, algorithm: ChecksumAlgorithm
) -> None:
    # Either algorithm's header is verified (MinIO: internal/hash/reader.go), and echoed.
    s3 = embedded_s3.s3()
    args: dict[str, Any] = {
        "ChecksumAlgorithm": algorithm.name,
        algorithm.field: algorithm.b64(b"other bytes"),
    }
    with pytest.raises(ClientError, match="BadDigest"):
        s3.put_object(Bucket=bucket, Key="wrong-checksum", Body=b"audio", **args)
    args[algorithm.field] = algorithm.b64(b"audio")
    answer = s3.put_object(Bucket=bucket, Key="right-checksum", Body=b"audio", **args)
    assert answer.get(algorithm.field) == algorithm.b64(b"audio")  # echoed
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_two_checksum_headers_are_refused_as_minio_does(
    embedded_s3: EmbeddedS3, bucket: str
) -> None:
    # MinIO's getContentChecksum (internal/hash/checksum.go): a second x-amz-checksum-* header is
    # an invalid checksum. A client hashing the body twice (ours and botocore's) would fail here.
    s3 = embedded_s3.s3()

    def add_sha256(request: Any, **_: Any) -> None:
        request.headers[SHA256.header] = SHA256.b64(b"audio")

    s3.meta.events.register("before-send.s3.PutObject", add_sha256)
    with pytest.raises(ClientError, match="InvalidArgument"):
        s3.put_object(Bucket=bucket, Key="two", Body=b"audio", ChecksumCRC32=CRC32.b64(b"audio"))
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
