"""The IAM and bucket policy documents, kept as JSON files in ``policies/`` for reviewable diffs.

Each file names the bucket with the placeholder ``${bucket}``; :func:`load_policy` substitutes the
stack's bucket into every string of the parsed document (never into raw text, so a value can never
change the JSON's structure).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from infra import render_format

POLICY_DIR: Final = Path(__file__).resolve().parent.parent / "policies"
BUCKET_PLACEHOLDER: Final = "${bucket}"

UPLOADER_POLICY: Final = "voice-ai-uploader"
READER_POLICY: Final = "omniplay-reader"
PUBLIC_RECORDINGS_POLICY: Final = "public-recordings-read"
OBSERVER_POLICY: Final = "pulumi-observer"
STEWARD_POLICY: Final = "recordings-steward"

# What `pulumi preview --refresh` reads, per resource type the program makes: the calls of the
# provider's Read functions (terraform-provider-minio v1.20.1, minio/resource_minio_*.go), as the
# actions MinIO authorizes them with. The observer's policy is exactly their union
# (voice_recordings.permissions.OBSERVER_ACTIONS); a test holds every render variant to this map.
REFRESH_READS: Final[Mapping[str, tuple[str, ...]]] = {
    render_format.PROVIDER: (),  # configuring builds clients only (new_client.go)
    render_format.BUCKET: ("s3:ListBucket",),  # BucketExists: HEAD bucket
    render_format.VERSIONING: ("s3:GetBucketVersioning",),
    render_format.LIFECYCLE: ("s3:GetLifecycleConfiguration",),
    render_format.BUCKET_POLICY: ("s3:GetBucketPolicy",),
    render_format.ENCRYPTION: ("s3:GetEncryptionConfiguration",),
    render_format.IAM_POLICY: ("admin:GetPolicy",),  # InfoCannedPolicy
    render_format.IAM_USER: ("admin:GetUser",),  # GetUserInfo
    # GetUserInfo, for the user's policy names.
    render_format.ATTACHMENT: ("admin:GetUser",),
    # InfoServiceAccount of another user's account.
    render_format.SERVICE_ACCOUNT: ("admin:ListServiceAccounts",),
}


def policy_path(name: str) -> Path:
    """``policies/<name>.json``."""
    return POLICY_DIR / f"{name}.json"


def load_policy(name: str, bucket: str) -> dict[str, Any]:
    """The document of ``policies/<name>.json`` with ``${bucket}`` replaced by ``bucket``."""
    document = json.loads(policy_path(name).read_text(encoding="utf-8"))
    substituted = _substitute(document, bucket)
    if not isinstance(substituted, dict):
        raise ValueError(f"{policy_path(name)} must hold a JSON object")
    if "${" in json.dumps(substituted):
        raise ValueError(f"{policy_path(name)} has a placeholder other than {BUCKET_PLACEHOLDER}")
    return substituted


def _substitute(value: Any, bucket: str) -> Any:
    if isinstance(value, str):
        return value.replace(BUCKET_PLACEHOLDER, bucket)
    if isinstance(value, list):
        return [_substitute(item, bucket) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, bucket) for key, item in value.items()}
    return value


def policy_json(name: str, bucket: str) -> str:
    """:func:`load_policy` as the compact JSON string the MinIO provider takes."""
    return json.dumps(load_policy(name, bucket), separators=(",", ":"), sort_keys=True)
