"""The vocabulary :mod:`~devtools.provision.actions` and :mod:`~devtools.provision.lifecycle`
share with the stand-in plugin: a type token, the MinIO admin prefix, the errors."""

from __future__ import annotations

from typing import Final

from infra import render_format

IAM_POLICY: Final = render_format.IAM_POLICY
ADMIN_PREFIX: Final = "admin:"  # MinIO admin API actions (minio/pkg policy/admin-action.go)


class ProvisionError(ValueError):
    """An operation the endpoint cannot do as the provider would (names what)."""


def bucket_exists_error(bucket: str) -> str:
    """The provider's error when the bucket exists (minioCreateBucket: NewResourceError, nil)."""
    return f"[FATAL] bucket already exists! ({bucket}): <nil>"
