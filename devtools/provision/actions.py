"""What each MinIO provider operation does on the embedded endpoint: one definition.

The stand-in provider plugin (:mod:`devtools.providers.minio_provider`, under the real engine)
acts on the server through these functions. Each follows terraform-provider-minio v1.20.1
(``infra/provider_contract.py``) on an endpoint that speaks S3 and IAM instead of MinIO's admin
API: a MinIO user is an IAM user whose secret is its login profile, a service account is an
access key of its user, a canned policy is a local IAM policy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from devtools.clients import Credentials
from devtools.provision.model import ADMIN_PREFIX, IAM_POLICY, ProvisionError, bucket_exists_error

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

# IAM cannot hold MinIO admin statements: the endpoint keeps them beside the policy, as this
# tag (JSON), so that reading the policy back gives the whole document the provider wrote.
ADMIN_STATEMENTS_TAG: Final = "minio-admin-statements"
NOT_FOUND_CODES: Final = frozenset({"404", "NoSuchBucket", "NotFound", "NoSuchEntity"})


def error_code(exc: ClientError) -> str:
    """The S3 or IAM error code of ``exc``."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def bucket_exists(s3: S3Client, bucket: str) -> bool:
    """Whether ``bucket`` exists (the provider's BucketExists)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND_CODES:
            return False
        raise
    return True


def create_bucket(s3: S3Client, region: str, bucket: str) -> None:
    """minioCreateBucket: refused with the provider's own error when the bucket exists."""
    if bucket_exists(s3, bucket):
        raise ProvisionError(bucket_exists_error(bucket))
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
        )


def put_versioning(s3: S3Client, bucket: str, status: str) -> None:
    """minioPutBucketVersioning (Enabled or Suspended)."""
    if status not in ("Enabled", "Suspended"):
        raise ProvisionError(f"versioning status must be Enabled or Suspended, got {status!r}")
    s3.put_bucket_versioning(
        Bucket=bucket,
        VersioningConfiguration={"Status": status},  # type: ignore[typeddict-item]
    )


def put_encryption(s3: S3Client, bucket: str, algorithm: str, kms_key_id: str | None) -> None:
    """minioPutBucketServerSideEncryption."""
    rule: dict[str, str] = {"SSEAlgorithm": algorithm}
    if kms_key_id:
        rule["KMSMasterKeyID"] = kms_key_id
    configuration: Any = {"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=configuration)


def put_lifecycle(s3: S3Client, bucket: str, rules: list[dict[str, Any]]) -> None:
    """minioCreateILMPolicy: the whole lifecycle, replaced (S3 lifecycle rules)."""
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": rules},  # type: ignore[typeddict-item]
    )


def put_bucket_policy(s3: S3Client, bucket: str, policy: Mapping[str, Any]) -> None:
    """minioPutBucketPolicy."""
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def split_admin_statements(
    name: str, policy: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The policy without its MinIO admin statements, and those statements."""
    kept: list[Any] = []
    admin: list[dict[str, Any]] = []
    for statement in _as_list(policy.get("Statement", [])):
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        mine = [a for a in actions if a.startswith(ADMIN_PREFIX)]
        if not mine:
            kept.append(statement)
            continue
        if len(mine) != len(actions) or statement.get("Effect") != "Allow":
            raise ProvisionError(
                f"{IAM_POLICY} {name!r}: a statement mixes MinIO admin actions with others, or "
                f"denies them; MinIO refuses mixed statements and the endpoint has no admin API"
            )
        admin.append(dict(statement))
    if not kept:
        raise ProvisionError(
            f"{IAM_POLICY} {name!r}: only MinIO admin statements, which the endpoint cannot hold"
        )
    return {**policy, "Statement": kept}, admin


def admin_actions(statements: list[dict[str, Any]]) -> tuple[str, ...]:
    """Every admin action the statements allow, in order."""
    return tuple(str(a) for s in statements for a in _as_list(s.get("Action", [])))


def local_policy_arn(iam: IAMClient, policy: str) -> str | None:
    """The ARN of the canned policy named ``policy``, or None."""
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for found in page["Policies"]:
            if found["PolicyName"] == policy:
                return found["Arn"]
    return None


def put_policy(iam: IAMClient, name: str, policy: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """AddCannedPolicy: make or silently replace the policy ``name``; its ARN and admin actions."""
    plain, admin = split_admin_statements(name, policy)
    document = json.dumps(plain)
    tags: list[Any] = [{"Key": ADMIN_STATEMENTS_TAG, "Value": json.dumps(admin)}] if admin else []
    arn = local_policy_arn(iam, name)
    if arn is None:
        arn = iam.create_policy(PolicyName=name, PolicyDocument=document, Tags=tags)["Policy"][
            "Arn"
        ]
        return arn, admin_actions(admin)
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:  # IAM keeps at most 5 versions
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    iam.untag_policy(PolicyArn=arn, TagKeys=[ADMIN_STATEMENTS_TAG])
    if tags:
        iam.tag_policy(PolicyArn=arn, Tags=tags)
    return arn, admin_actions(admin)


def read_policy(iam: IAMClient, name: str) -> dict[str, Any] | None:
    """InfoCannedPolicy: the whole document of policy ``name`` (admin statements included)."""
    arn = local_policy_arn(iam, name)
    if arn is None:
        return None
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    document = version["PolicyVersion"]["Document"]
    parsed: dict[str, Any] = json.loads(document) if isinstance(document, str) else dict(document)
    tags = {t["Key"]: t["Value"] for t in iam.list_policy_tags(PolicyArn=arn)["Tags"]}
    if ADMIN_STATEMENTS_TAG in tags:
        parsed["Statement"] = [
            *_as_list(parsed.get("Statement", [])),
            *json.loads(tags[ADMIN_STATEMENTS_TAG]),
        ]
    return parsed


def delete_policy(iam: IAMClient, name: str) -> None:
    """RemoveCannedPolicy."""
    arn = local_policy_arn(iam, name)
    if arn is None:
        raise ProvisionError(f"unable to delete policy {name}: no such policy")
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)


def user_exists(iam: IAMClient, user: str) -> bool:
    """Whether the MinIO user ``user`` exists (GetUserInfo)."""
    try:
        iam.get_user(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def _has_login_profile(iam: IAMClient, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def put_user(iam: IAMClient, user: str, secret: str | None) -> None:
    """AddUser: make the user, or silently replace an existing one's secret (and enable it).

    ``secret`` None: the user's password is left as it is (the render hides which one).
    """
    exists = user_exists(iam, user)
    if not exists:
        iam.create_user(UserName=user)
    if secret is None:
        return
    if exists and _has_login_profile(iam, user):
        iam.update_login_profile(UserName=user, Password=secret)
    else:
        iam.create_login_profile(UserName=user, Password=secret)


def delete_user(iam: IAMClient, user: str) -> None:
    """RemoveUser: the user goes, and with it its service accounts and policy mappings."""
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    for attached in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=user, PolicyArn=attached["PolicyArn"])
    if _has_login_profile(iam, user):
        iam.delete_login_profile(UserName=user)
    iam.delete_user(UserName=user)


def user_policies(iam: IAMClient, user: str) -> list[str]:
    """The names of the policies attached to ``user`` (GetUserInfo's PolicyName, split)."""
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    return [p["PolicyName"] for p in attached]


def attach(iam: IAMClient, user: str, policy: str) -> None:
    """SetPolicy with the policy added to the user's list (a no-op when it is there)."""
    arn = local_policy_arn(iam, policy)
    if arn is None:
        raise ProvisionError(
            f"policy {policy!r} does not exist (built-in MinIO policies are not on the endpoint)"
        )
    iam.attach_user_policy(UserName=user, PolicyArn=arn)


def detach(iam: IAMClient, user: str, policy: str) -> None:
    """SetPolicy with the policy taken out of the user's list (a no-op when it is not there)."""
    arn = local_policy_arn(iam, policy)
    if arn is not None and policy in user_policies(iam, user):
        iam.detach_user_policy(UserName=user, PolicyArn=arn)


def create_service_account(iam: IAMClient, user: str) -> Credentials:
    """AddServiceAccount: a new key pair for ``user``, every time."""
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def service_account_user(iam: IAMClient, access_key: str) -> str | None:
    """The parent user of the service account ``access_key`` (InfoServiceAccount), or None."""
    try:
        found = iam.get_access_key_last_used(AccessKeyId=access_key)
    except ClientError as exc:
        if error_code(exc) in NOT_FOUND_CODES or "not found" in str(exc).lower():
            return None
        raise
    user = found.get("UserName")
    if not user:
        return None
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return user if access_key in {k["AccessKeyId"] for k in keys} else None


def implied_policy(iam: IAMClient, user: str) -> dict[str, Any]:
    """What InfoServiceAccount reports as the policy of an account without its own: its
    parent's policies, merged into one document."""
    statements: list[Any] = []
    for name in user_policies(iam, user):
        document = read_policy(iam, name) or {}
        statements.extend(_as_list(document.get("Statement", [])))
    return {"Version": "2012-10-17", "Statement": statements}
