"""The one place that builds S3 clients: signature, addressing, timeouts and retries.

Retries use botocore's ``standard`` mode (exponential backoff with jitter, retry quota) with the
attempt count and timeouts from :class:`StorageSettings`; nothing else in the package retries.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config

from voice_recordings.answers import install as install_answer_checks
from voice_recordings.settings import StorageSettings

# Connections kept per client; also the number of handoff threads (uploader.py), so a burst of
# handoffs never waits for a connection its thread could not open.
MAX_POOL_CONNECTIONS: Final = 32

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def client_config(settings: StorageSettings) -> Config:
    """The botocore Config every client of ours uses (MinIO wants SigV4 and path-style URLs)."""
    return Config(
        signature_version="s3v4",
        region_name=settings.region,
        s3={"addressing_style": "path"},
        # total_max_attempts counts every request; botocore's max_attempts counts retries
        # (3 would mean 4 requests).
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


# A new boto3 session parses botocore's data files again (endpoints.json, about 1 MB, and the
# service model): tens of milliseconds of CPU per client, the most of building one. One session
# for the process keeps them parsed once. boto3 sessions are not thread-safe, so clients are made
# under a lock; the clients themselves are.
_SESSION_LOCK: Final = threading.Lock()


@cache
def _process_session() -> boto3.session.Session:
    return boto3.session.Session()


def new_client(service: str, *, access_key: str, secret_key: str, **options: Any) -> Any:
    """A boto3 client of ``service`` signed by exactly this key pair (``options``: as
    ``boto3.client``'s). Keys given to a client are the only ones it uses: a stray ``AWS_*``
    variable or ``~/.aws`` file never changes which identity signs."""
    with _SESSION_LOCK:
        return _process_session().client(
            service,  # type: ignore[call-overload]
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            **options,
        )


def make_s3_client(settings: StorageSettings, endpoint_url: str | None = None) -> S3Client:
    """An S3 client for ``settings`` (against ``endpoint_url`` if given, e.g. the public host).

    Credentials come only from ``settings`` (:func:`new_client`).
    """
    client: S3Client = new_client(
        "s3",
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        region_name=settings.region,
        endpoint_url=endpoint_url or settings.endpoint_url,
        config=client_config(settings),
        verify=settings.ca_bundle or True,
    )
    # No storing request of ours takes a 200 that is not S3's for "stored" (answers.py).
    install_answer_checks(client)
    return client
