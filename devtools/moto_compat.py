"""Where moto's IAM evaluation of S3 requests differs from S3 and MinIO, corrected in place.

moto names the action of a ``HEAD /bucket`` request ``s3:HeadBucket``, which is no IAM action:
S3 and MinIO authorize HeadBucket with ``s3:ListBucket``. Without this correction an identity
holding exactly ``s3:ListBucket`` (the uploader, for ``is_available``) is refused on the embedded
endpoint while MinIO lets it through.

moto has no entry for ``?encryption`` either, so it authorizes reading a bucket's encryption
configuration as ``s3:ListBucket``, and setting or removing it as ``s3:CreateBucket`` /
``s3:DeleteBucket``. S3 and MinIO use ``s3:GetEncryptionConfiguration`` and
``s3:PutEncryptionConfiguration`` (also for the delete). Without this, the observer's
``s3:GetEncryptionConfiguration`` would be untested: ``s3:ListBucket`` alone would pass.

moto's action table is process-wide, like its state: :func:`apply` is idempotent and affects
every embedded endpoint of the process; ``EmbeddedS3.start`` calls it.

moto also enforces AWS's quota of two access keys per IAM user. MinIO has no such quota on a
user's service accounts (which access keys stand for here): a takeover holds the user's own
key pair, the console's account and the stack's new account at once.

And moto names the root element of a GetBucketVersioning answer ``GetBucketVersioningResponse``
(its serializer's default) where S3 and MinIO name it ``VersioningConfiguration`` (the S3 API
reference). boto3 reads either; minio-go, which the ``minio`` plugin speaks through, decodes into
a struct whose ``XMLName`` is ``VersioningConfiguration`` and refuses the other, so every refresh
of the bucket's versioning failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

# (resource type, method, query marker) -> the IAM action S3 and MinIO authorize it with.
CORRECTIONS: Final[dict[tuple[str, str, str], str]] = {
    ("BUCKET", "HEAD", "DEFAULT"): "ListBucket",
    ("BUCKET", "GET", "encryption"): "GetEncryptionConfiguration",
    ("BUCKET", "PUT", "encryption"): "PutEncryptionConfiguration",
    ("BUCKET", "DELETE", "encryption"): "PutEncryptionConfiguration",
}


# What moto calls the root of a GetBucketVersioning answer, and what S3 and MinIO call it.
VERSIONING_ROOT: Final = ("GetBucketVersioningResponse", "VersioningConfiguration")

# Service accounts (access keys) one user may hold; MinIO sets no limit, AWS IAM sets 2.
KEYS_PER_USER: Final = 100


def _versioning_answer(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def get_bucket_versioning(self: Any) -> Any:
        status, headers, body = original(self)
        wrong, right = VERSIONING_ROOT
        if isinstance(body, bytes):
            return status, headers, body.replace(wrong.encode(), right.encode())
        return status, headers, body.replace(wrong, right)

    get_bucket_versioning.corrected = True  # type: ignore[attr-defined]
    return get_bucket_versioning


def apply() -> None:
    """Correct moto's S3 action table, its per-user key quota and its versioning answer
    (idempotent)."""
    from moto.iam import models as iam_models
    from moto.s3.responses import ACTION_MAP, S3Response

    if not getattr(S3Response.get_bucket_versioning, "corrected", False):
        S3Response.get_bucket_versioning = _versioning_answer(  # type: ignore[method-assign,assignment]
            S3Response.get_bucket_versioning
        )

    iam_models.LIMIT_KEYS_PER_USER = KEYS_PER_USER
    for (resource, method, marker), action in CORRECTIONS.items():
        ACTION_MAP[resource][method][marker] = action
