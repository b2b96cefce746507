"""The benchmark's sink answers like S3: the uploader (answer checks on), boto3 and minio-py all
take its answers for stored, for one PUT and for multipart, over TLS."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zlib
from pathlib import Path
from typing import IO, Any

import boto3
import urllib3
from minio import Minio
from prometheus_client import CollectorRegistry

from devtools.fake_servers.sink import SinkS3
from tests.support import GeneratedStream
from voice_recordings import MinioUploader, StorageSettings
from voice_recordings.checksums import UPLOAD_CHECKSUM
from voice_recordings.metrics import upload_metrics

BUCKET = "voice-recordings"


def test_every_client_takes_the_sinks_answers_for_stored(tmp_path: Path) -> None:
    with SinkS3() as sink:
        settings = StorageSettings.from_env({**sink.env(BUCKET), "MINIO_SPOOL_DIR": str(tmp_path)})
        uploader = MinioUploader(settings, metrics=upload_metrics(CollectorRegistry()))
        bodies: dict[str, bytes | IO[bytes]] = {
            "bytes": b"audio" * 1000,
            "file": io.BytesIO(os.urandom(3 * 1024 * 1024)),
            "stream": io.BufferedReader(GeneratedStream(20 * 1024 * 1024)),  # multipart
        }
        for name, body in bodies.items():
            result = uploader.upload_audio(body, call_uuid=f"sink-{name}", company_id=5)
            assert not result.spooled, name
        uploader.close()

        raw = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            aws_access_key_id="sink",
            aws_secret_access_key="sink-secret",
            region_name="us-east-1",
            verify=sink.ca_bundle,
        )
        answer = raw.put_object(Bucket=BUCKET, Key="k", Body=b"abc")  # CRC32 in a trailer
        crc = base64.b64encode(zlib.crc32(b"abc").to_bytes(4, "big")).decode()
        assert answer["ETag"] and answer.get("ChecksumCRC32") == crc
        answer = raw.put_object(Bucket=BUCKET, Key="k", Body=b"abc", ChecksumAlgorithm="SHA256")
        assert (
            answer.get("ChecksumSHA256")
            == base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
        )
        # The uploader's own checksum, given in a header (so botocore adds no trailer), echoed.
        given: dict[str, Any] = {
            "ChecksumAlgorithm": UPLOAD_CHECKSUM.name,
            UPLOAD_CHECKSUM.field: UPLOAD_CHECKSUM.b64(b"abc"),
        }
        answer = raw.put_object(Bucket=BUCKET, Key="k", Body=b"abc", **given)
        assert answer.get(UPLOAD_CHECKSUM.field) == UPLOAD_CHECKSUM.b64(b"abc")

        peer = Minio(
            sink.endpoint,
            access_key="sink",
            secret_key="sink-secret",
            secure=True,
            region="us-east-1",
            http_client=urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=sink.ca_bundle),
        )
        size = 12 * 1024 * 1024  # two parts
        assert peer.put_object(BUCKET, "big", io.BytesIO(b"x" * size), length=size).etag
        assert peer.put_object(BUCKET, "small", io.BytesIO(b"abc"), length=3).etag
