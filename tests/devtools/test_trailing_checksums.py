"""The embedded endpoint verifies a checksum in an aws-chunked trailer (boto3's default over TLS),
as MinIO does, not only one in a header."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.embedded_s3 import EmbeddedS3


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
