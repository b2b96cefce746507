"""Clients of the embedded endpoint that need nothing of moto: a key pair, a plain boto3 client.

Kept apart from :mod:`devtools.endpoint.embedded_s3` (which starts moto's server) so that what only
talks to an endpoint (the stand-in provider plugins the engine starts for every command, a
test's view of an endpoint in another process) does not import moto. Also what such an
endpoint offers (:class:`ServedEndpoint`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.config import Config

from voice_recordings.client import new_client

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class Credentials:
    """An access key pair (its repr hides the secret)."""

    access_key: str
    secret_key: str

    def __repr__(self) -> str:
        return f"Credentials(access_key={self.access_key!r}, secret_key='***')"


def plain_client(
    service: str,
    endpoint_url: str,
    region: str,
    creds: Credentials,
    ca_bundle: str | None = None,
) -> Any:
    """A boto3 client of ``service`` signed by ``creds`` (SigV4, path-style, one attempt: a
    denial in a test must surface at once, not after retries), trusting ``ca_bundle`` if given."""
    return new_client(
        service,
        access_key=creds.access_key,
        secret_key=creds.secret_key,
        endpoint_url=endpoint_url,
        verify=ca_bundle or True,
        region_name=region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
        ),
    )


class ServedEndpoint(Protocol):
    """What a stack is pointed at and deployed with: an endpoint's address, TLS, CA and admin
    (an :class:`~devtools.endpoint.embedded_s3.EmbeddedS3`, or one in a child process:
    :class:`~devtools.endpoint.child_process.EndpointProcess`)."""

    @property
    def endpoint(self) -> str:
        """``host:port``."""

    @property
    def endpoint_url(self) -> str:
        """``http(s)://host:port``."""

    @property
    def tls(self) -> bool:
        """Whether it serves HTTPS."""

    @property
    def ca_bundle(self) -> str | None:
        """The PEM file of the CA that signed its certificate (None: no TLS)."""

    @property
    def admin(self) -> Credentials:
        """The identity allowed everything: the deploying job's MINIO_USER/MINIO_PASSWORD."""

    def s3(self, credentials: Credentials | None = None) -> S3Client:
        """A plain S3 client (admin unless ``credentials``)."""

    def iam(self, credentials: Credentials | None = None) -> IAMClient:
        """A plain IAM client (admin unless ``credentials``)."""
