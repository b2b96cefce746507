"""Clients of the embedded endpoint that need nothing of moto: a key pair, a plain boto3 client.

Kept apart from :mod:`devtools.embedded_s3` (which starts moto's server) so that what only
talks to an endpoint (the stand-in provider plugins the engine starts for every command, the
provisioner's actions) does not import moto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config


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
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        verify=ca_bundle or True,
        region_name=region,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
        ),
    )
