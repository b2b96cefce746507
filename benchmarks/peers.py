"""The four clients the upload benchmark compares, and what each sends besides the body.

The uploader; boto3 built as the uploader builds it ("boto3 same"); boto3 with its defaults;
minio-py with its defaults. Every one trusts the endpoint's CA and writes the same bucket, with
the same metadata, tag and content type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

MB: Final = 1024 * 1024
BUCKET: Final = "voice-recordings"
COMPANY: Final = 42


def make_clients(env: dict[str, str], spool: Path) -> tuple[Any, Any, Any, Any]:
    """The uploader (own metrics registry, a spool), boto3 built as the uploader builds it (for
    "same"), boto3 with its defaults and minio-py, one endpoint, all trusting its CA."""
    import boto3
    import urllib3
    from minio import Minio
    from prometheus_client import CollectorRegistry

    from voice_recordings.client import client_config, make_s3_client
    from voice_recordings.metrics import upload_metrics
    from voice_recordings.settings import StorageSettings
    from voice_recordings.uploader import MinioUploader

    settings = StorageSettings.from_env({**env, "MINIO_SPOOL_DIR": str(spool)})
    uploader = MinioUploader(settings, metrics=upload_metrics(CollectorRegistry()))
    raw = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        config=client_config(settings),
        verify=settings.ca_bundle or True,
    )
    peer = Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.use_ssl,
        region=settings.region,
        # minio-py's own default pool, with the CA to trust.
        http_client=urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.ca_bundle,
            retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503]),
        ),
    )
    return uploader, make_s3_client(settings), raw, peer


def raw_args(call: str) -> dict[str, Any]:
    """What the uploader sends besides the body, for boto3 to send too."""
    import datetime as dt

    from voice_recordings.metadata import object_metadata

    return {
        "ContentType": "audio/mpeg",
        "Metadata": object_metadata(call, COMPANY, uploaded_at=dt.datetime.now(dt.UTC)),
        "Tagging": "kind=voice",
    }
