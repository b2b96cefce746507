"""What each identity may do on the recordings bucket: the one list of S3 actions.

The IAM policy documents (``policies/*.json``), the guardrails and the tests all take the actions
from here, so "least privilege" has one definition. Never imports pulumi.
"""

from __future__ import annotations

from typing import Final

# Exactly what the uploader (the Voice AI service) does: PUT with tags (MinIO demands
# s3:PutObjectTagging for a tagged PUT), GET to read back, and HEAD bucket (s3:ListBucket) for
# ``is_available``. No delete, no bucket administration.
UPLOADER_ACTIONS: Final[tuple[str, ...]] = (
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
    "s3:PutObjectTagging",
)

# OmniPlay's attendants play recordings: read one object, nothing else (no listing).
READER_ACTIONS: Final[tuple[str, ...]] = ("s3:GetObject",)

# The specification's public-URL flow, when a stack opts in: anonymous GET of recordings only.
ANONYMOUS_ACTIONS: Final[tuple[str, ...]] = ("s3:GetObject",)

# Actions that act on the bucket itself (resource ``arn:aws:s3:::<bucket>``); the rest act on
# objects (resource ``arn:aws:s3:::<bucket>/...``).
BUCKET_ACTIONS: Final[frozenset[str]] = frozenset({"s3:ListBucket"})


def bucket_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings``: the bucket itself."""
    return f"arn:aws:s3:::{bucket}"


def objects_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings/*``: every object in the bucket."""
    return f"arn:aws:s3:::{bucket}/*"
