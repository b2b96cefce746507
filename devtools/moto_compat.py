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
"""

from __future__ import annotations

from typing import Final

# (resource type, method, query marker) -> the IAM action S3 and MinIO authorize it with.
CORRECTIONS: Final[dict[tuple[str, str, str], str]] = {
    ("BUCKET", "HEAD", "DEFAULT"): "ListBucket",
    ("BUCKET", "GET", "encryption"): "GetEncryptionConfiguration",
    ("BUCKET", "PUT", "encryption"): "PutEncryptionConfiguration",
    ("BUCKET", "DELETE", "encryption"): "PutEncryptionConfiguration",
}


# Service accounts (access keys) one user may hold; MinIO sets no limit, AWS IAM sets 2.
KEYS_PER_USER: Final = 100


def apply() -> None:
    """Correct moto's S3 action table and its per-user key quota (idempotent)."""
    from moto.iam import models as iam_models
    from moto.s3.responses import ACTION_MAP

    iam_models.LIMIT_KEYS_PER_USER = KEYS_PER_USER
    for (resource, method, marker), action in CORRECTIONS.items():
        ACTION_MAP[resource][method][marker] = action
