"""The upload checksum is written as S3 and botocore write it, and botocore adds none of its own.

The facts behind the choice (CRC32 for uploads, SHA-256 for replay) and their sources are in
``voice_recordings/checksums.py``; these tests pin the ones that decide behaviour.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.httpchecksum import Crc32Checksum, Sha256Checksum
from hypothesis import given
from hypothesis import strategies as st

from voice_recordings.checksums import (
    BY_HEADER,
    CRC32,
    REPLAY_CHECKSUM,
    SHA256,
    UPLOAD_CHECKSUM,
    ChecksumAlgorithm,
)


def test_uploads_carry_crc32_and_replay_the_spools_sha256() -> None:
    # The decision of issue 21: CRC32 on the hot path; replay keeps the spool's own SHA-256.
    assert UPLOAD_CHECKSUM is CRC32 and REPLAY_CHECKSUM is SHA256


@pytest.mark.parametrize("algorithm", [CRC32, SHA256], ids=lambda a: a.name)
def test_names_are_botocores_for_a_put_a_part_and_a_head(algorithm: ChecksumAlgorithm) -> None:
    # botocore/data/s3/2006-03-01/service-2.json: the member is sent and answered as the header.
    model: Any = botocore.session.get_session().get_service_model("s3")
    header = {"location": "header", "name": algorithm.header}
    for name in ("PutObject", "UploadPart"):
        operation = model.operation_model(name)
        assert operation.input_shape.members[algorithm.field].serialization == header
        assert operation.output_shape.members[algorithm.field].serialization == header
        assert algorithm.name in operation.input_shape.members["ChecksumAlgorithm"].enum
    head = model.operation_model("HeadObject").output_shape
    assert head.members[algorithm.field].serialization == header
    assert BY_HEADER[algorithm.header] is algorithm


def test_crc32_is_base64_of_four_big_endian_bytes() -> None:
    # The standard check value of CRC-32/IEEE: crc32(b"123456789") == 0xCBF43926.
    assert CRC32.b64(b"123456789") == base64.b64encode(bytes.fromhex("cbf43926")).decode()
    assert CRC32.b64(b"") == "AAAAAA=="


@given(st.binary(max_size=4096))
def test_each_algorithm_matches_botocores_own(data: bytes) -> None:
    assert CRC32.b64(data) == Crc32Checksum().handle(data)
    assert SHA256.b64(data) == Sha256Checksum().handle(data)
    assert CRC32.b64(data) == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert SHA256.b64(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_file_is_read_from_where_it_stands_and_rewound_there() -> None:
    file = io.BytesIO(b"skip" + b"x" * (3 * 1024 * 1024))
    file.seek(4)
    assert UPLOAD_CHECKSUM.of_body(file) == UPLOAD_CHECKSUM.b64(b"x" * (3 * 1024 * 1024))
    assert file.tell() == 4
    assert UPLOAD_CHECKSUM.of_body(iter([b"not a file"])) is None


class _Stop(Exception):
    """Raised just before a request would be sent."""


@pytest.mark.parametrize("algorithm", [CRC32, SHA256], ids=lambda a: a.name)
def test_a_caller_given_checksum_is_sent_verbatim_and_botocore_computes_none(
    algorithm: ChecksumAlgorithm,
) -> None:
    # botocore/httpchecksum.py resolve_request_checksum_algorithm: "If the header is already
    # set by the customer, skip calculation". So the one checksum header is the caller's value
    # (a deliberately wrong one here, which botocore would have replaced had it computed its own).
    client = boto3.session.Session().client(
        "s3",
        endpoint_url="https://s3.example.test",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="unit-test-secret-not-real",
        region_name="us-east-1",
    )
    seen: dict[str, str] = {}

    def stop(request: Any, **_: Any) -> None:
        seen.update(
            {
                k.lower(): v.decode() if isinstance(v, bytes) else v
                for k, v in request.headers.items()
            }
        )
        raise _Stop

    client.meta.events.register("before-send.s3.PutObject", stop)
    value = algorithm.b64(b"other bytes")
    args: dict[str, Any] = {"ChecksumAlgorithm": algorithm.name, algorithm.field: value}
    with pytest.raises(_Stop):
        client.put_object(Bucket="b", Key="k", Body=b"audio", **args)
    checksums = {k: v for k, v in seen.items() if k.startswith("x-amz-checksum-")}
    assert checksums == {algorithm.header: value}
    assert "x-amz-trailer" not in seen and "aws-chunked" not in seen.get("content-encoding", "")
