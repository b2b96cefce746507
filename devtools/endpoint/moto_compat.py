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

MinIO's admin actions (``admin:GetUser`` ...) are no IAM actions: the ``minio`` plugin keeps a
canned policy's ``admin:`` statements in a tag of the IAM policy (tools/provider/minio/admin.go,
``adminStatementsTag``), where moto never reads them, and makes IAM calls where MinIO's admin API
would answer. So a user that MinIO lets read users, policies and service accounts (CI's
observer: a refresh reads them) was refused every such read here. Those reads are granted as the
IAM calls the plugin makes for them (:data:`ADMIN_READS_AS_IAM`), to whoever holds a policy
whose tag allows them; any other admin action stays refused.

And moto names the root element of a GetBucketVersioning answer ``GetBucketVersioningResponse``
(its serializer's default) where S3 and MinIO name it ``VersioningConfiguration`` (the S3 API
reference). boto3 reads either; minio-go, which the ``minio`` plugin speaks through, decodes into
a struct whose ``XMLName`` is ``VersioningConfiguration`` and refuses the other, so every refresh
of the bucket's versioning failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

# (resource type, method, query marker) -> the IAM action S3 and MinIO authorize it with.
CORRECTIONS: Final[dict[tuple[str, str, str], str]] = {
    ("BUCKET", "HEAD", "DEFAULT"): "ListBucket",
    ("BUCKET", "GET", "encryption"): "GetEncryptionConfiguration",
    ("BUCKET", "PUT", "encryption"): "PutEncryptionConfiguration",
    ("BUCKET", "DELETE", "encryption"): "PutEncryptionConfiguration",
}


# The plugin's tag for a policy's MinIO admin statements (tools/provider/minio/admin.go).
ADMIN_STATEMENTS_TAG: Final = "minio-admin-statements"
# A MinIO admin read -> the IAM calls the plugin makes for it (admin.go: getUserInfo,
# policyArn and infoCannedPolicy, infoServiceAccount).
ADMIN_READS_AS_IAM: Final[dict[str, tuple[str, ...]]] = {
    "admin:GetUser": ("iam:GetUser", "iam:ListAttachedUserPolicies"),
    "admin:GetPolicy": ("iam:ListPolicies", "iam:GetPolicy", "iam:GetPolicyVersion"),
    "admin:ListServiceAccounts": ("iam:GetAccessKeyLastUsed", "iam:ListAccessKeys"),
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


def admin_reads_policy(statements: list[Any]) -> str | None:
    """An IAM policy document granting the IAM calls that ``statements`` (a policy's admin
    statements, as the plugin tags them) stand for; None when they allow no admin read."""
    actions = sorted(
        {
            call
            for statement in statements
            if isinstance(statement, dict) and statement.get("Effect") == "Allow"
            for action in _as_list(statement.get("Action"))
            for call in ADMIN_READS_AS_IAM.get(str(action), ())
        }
    )
    if not actions:
        return None
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _tagged_admin_reads(policy: Any) -> str | None:
    for tag in (getattr(policy, "tags", None) or {}).values():
        if tag.get("Key") == ADMIN_STATEMENTS_TAG:
            return admin_reads_policy(_as_list(json.loads(tag.get("Value") or "[]")))
    return None


def _with_admin_reads(original: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    def collect_policies(self: Any) -> list[Any]:
        policies = original(self)
        granted = [_tagged_admin_reads(policy) for policy in policies]
        return policies + [document for document in granted if document]

    collect_policies.corrected = True  # type: ignore[attr-defined]
    return collect_policies


def apply() -> None:
    """Correct moto's S3 action table, its per-user key quota, its versioning answer and its
    reading of MinIO admin statements (idempotent)."""
    from moto.iam import access_control
    from moto.iam import models as iam_models
    from moto.s3.responses import ACTION_MAP, S3Response

    user_key = access_control.IAMUserAccessKey
    if not getattr(user_key.collect_policies, "corrected", False):
        user_key.collect_policies = _with_admin_reads(  # type: ignore[method-assign,assignment]
            user_key.collect_policies
        )

    if not getattr(S3Response.get_bucket_versioning, "corrected", False):
        S3Response.get_bucket_versioning = _versioning_answer(  # type: ignore[method-assign,assignment]
            S3Response.get_bucket_versioning
        )

    iam_models.LIMIT_KEYS_PER_USER = KEYS_PER_USER
    for (resource, method, marker), action in CORRECTIONS.items():
        ACTION_MAP[resource][method][marker] = action
