"""What each identity may do on the recordings bucket: the one list of S3 actions.

The IAM policy documents (``policies/*.json``), the guardrails and the tests all take the actions
from here, so "least privilege" has one definition. Never imports pulumi.
"""

from __future__ import annotations

from typing import Final

from voice_recordings.keys import COMPANY_KEY_HEAD, ERASURES_PREFIX, TRANSCRIPT, Kind

# Exactly what the uploader (the Voice AI service) does: PUT with tags (MinIO demands
# s3:PutObjectTagging for a tagged PUT), GET to read back, and HEAD bucket (s3:ListBucket) for
# ``is_available``; abort the multipart upload of an upload cut short. No delete of anything
# stored, no bucket administration.
UPLOADER_ACTIONS: Final[tuple[str, ...]] = (
    "s3:AbortMultipartUpload",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
    "s3:PutObjectTagging",
)

# Where `voice-recordings check` writes its probe: a fixed key outside every company_{id}/
# prefix (ids are positive integers, so no company can own it), overwritten by each run. It is
# tagged as PROBE_KIND so that a lifecycle rule selecting that tag expires its old versions
# (infra/lifecycle_rules.py keeps one matching it under every stack config).
PROBE_PREFIX: Final = "healthcheck/"
PROBE_KEY: Final = f"{PROBE_PREFIX}voice-recordings-check.txt"
PROBE_KIND: Final[Kind] = TRANSCRIPT

# AbortMultipartUpload: an upload cut short (by MINIO_UPLOAD_DEADLINE) aborts the multipart
# upload it started (voice_recordings.transfer), so its parts are not kept on the server; it
# removes nothing stored.
UPLOADER_WRITE_ACTIONS: Final = ("s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectTagging")

# OmniPlay's attendants play recordings: read one object, nothing else (no listing).
READER_ACTIONS: Final[tuple[str, ...]] = ("s3:GetObject",)

# The specification's public-URL flow, when a stack opts in: anonymous GET of recordings only.
ANONYMOUS_ACTIONS: Final[tuple[str, ...]] = ("s3:GetObject",)

# The data-protection steward (`voice-recordings erase` and `export`, run by a person for a
# data-subject request or a company leaving): it lists every version of a call's objects, reads
# them and their tags, and deletes versions and delete markers. It is the only identity that may
# delete. It writes one kind of object only: the erasure marker
# (voice_recordings.subject_requests.erasure) that keeps a later replay from restoring what was
# erased.
STEWARD_BUCKET_ACTIONS: Final[tuple[str, ...]] = ("s3:ListBucket", "s3:ListBucketVersions")
STEWARD_OBJECT_ACTIONS: Final[tuple[str, ...]] = (
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionTagging",
)
STEWARD_MARKER_ACTIONS: Final[tuple[str, ...]] = ("s3:PutObject",)
STEWARD_ACTIONS: Final[tuple[str, ...]] = tuple(
    sorted({*STEWARD_BUCKET_ACTIONS, *STEWARD_OBJECT_ACTIONS, *STEWARD_MARKER_ACTIONS})
)

# Actions that act on the bucket itself (resource ``arn:aws:s3:::<bucket>``); the rest act on
# objects (resource ``arn:aws:s3:::<bucket>/...``).
BUCKET_ACTIONS: Final[frozenset[str]] = frozenset({"s3:ListBucket", "s3:ListBucketVersions"})


def bucket_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings``: the bucket itself."""
    return f"arn:aws:s3:::{bucket}"


def objects_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings/*``: every object in the bucket."""
    return f"arn:aws:s3:::{bucket}/*"


def recordings_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings/company_*``: every key of the layout, nothing else (the
    uploader's and the reader's grants stop here, so neither reaches ``erasures/``)."""
    return f"arn:aws:s3:::{bucket}/{COMPANY_KEY_HEAD}*"


def probe_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings/healthcheck/*``: where ``voice-recordings check`` writes."""
    return f"arn:aws:s3:::{bucket}/{PROBE_PREFIX}*"


def uploader_grants(bucket: str) -> frozenset[tuple[str, str]]:
    """Every (action, resource) the runtime needs as the uploader: find the bucket, read any
    object (replay reads the erasure markers it obeys; old keys outside the layout stay
    readable), and write only the key layout and the check's probe, never ``erasures/``."""
    writes = {
        (action, arn)
        for action in UPLOADER_WRITE_ACTIONS
        for arn in (recordings_arn(bucket), probe_arn(bucket))
    }
    return frozenset(
        {("s3:ListBucket", bucket_arn(bucket)), ("s3:GetObject", objects_arn(bucket))} | writes
    )


def erasures_arn(bucket: str) -> str:
    """``arn:aws:s3:::voice-recordings/erasures/*``: the erasure markers only."""
    return f"arn:aws:s3:::{bucket}/{ERASURES_PREFIX}*"


# The read-only observer that `pulumi preview --refresh` (CI's preview and drift jobs) runs as:
# exactly the calls the provider's Read functions make for this stack's resource types
# (terraform-provider-minio v1.20.1), as the actions MinIO checks. infra.policies.REFRESH_READS
# lists them per resource type; a test holds this list equal to their union.
# A missing read is not harmless: the bucket, lifecycle and encryption Reads treat any error as
# "gone", so a refresh without them would plan to re-create what exists. Nothing here reads an
# object (recordings are personal data) or returns a secret (InfoServiceAccount omits the key).
OBSERVER_S3_ACTIONS: Final[tuple[str, ...]] = (
    "s3:GetBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:ListBucket",
)
# MinIO admin API actions (minio/pkg policy/admin-action.go). MinIO refuses a statement that mixes
# them with s3: actions, and admin statements name no Resource.
OBSERVER_ADMIN_ACTIONS: Final[tuple[str, ...]] = (
    "admin:GetPolicy",
    "admin:GetUser",
    "admin:ListServiceAccounts",
)
OBSERVER_ACTIONS: Final[tuple[str, ...]] = OBSERVER_S3_ACTIONS + OBSERVER_ADMIN_ACTIONS

# What "read" means for an action name (the observer's guardrail): the verb after the service
# prefix. Get/List/Head/Describe name reads in both S3's and MinIO's vocabularies; anything else
# (Put, Create, Delete, Update, Attach, Set, Enable, Export, Heal, KMS..., a wildcard) is not.
_READ_VERBS: Final[tuple[str, ...]] = ("Get", "List", "Head", "Describe")


def is_read_action(action: str) -> bool:
    """True when ``action`` (``s3:GetObject``, ``admin:ListUsers``) only reads."""
    service, sep, name = action.partition(":")
    if not sep or not service or "*" in action or "?" in action:
        return False
    return any(
        name.startswith(verb) and name[len(verb) : len(verb) + 1].isupper() for verb in _READ_VERBS
    )
