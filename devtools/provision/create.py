"""Creating resources: one resource of the render, one action on the endpoint (:data:`HANDLERS`).

Each handler behaves as the provider (terraform-provider-minio v1.20.1) does on a server that may
not be empty: a bucket that exists is refused, a user or policy that exists is overwritten.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from devtools.embedded_s3 import Credentials
from devtools.provision.lifecycle import lifecycle_rules
from devtools.provision.model import (
    ADMIN_PREFIX,
    ATTACHMENT,
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    ENCRYPTION,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    PROVIDER,
    RANDOM_PASSWORD,
    SERVICE_ACCOUNT,
    VERSIONING,
    ProvisionError,
    State,
    bucket_exists_error,
    checked_inputs,
    plain_input,
)

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

Handler = Callable[[State, str, Mapping[str, Any]], None]


def _no_op(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    """The provider (the endpoint is given) and the component (nothing on the server)."""


def _random_password(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(
        RANDOM_PASSWORD,
        name,
        inputs,
        {"length"},
        frozenset({"special", "upper", "lower", "numeric", "number", "overrideSpecial"}),
    )
    alphabet = string.ascii_letters + string.digits
    if spec.get("special", True):
        alphabet += spec.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    state.passwords[name] = "".join(secrets.choice(alphabet) for _ in range(int(spec["length"])))


def _bucket(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(BUCKET, name, inputs, {"bucket"}, frozenset({"acl", "forceDestroy"}))
    if spec.get("acl", "private") != "private":
        raise ProvisionError(f"{BUCKET} {name!r}: only acl 'private' is supported")
    bucket = plain_input(BUCKET, name, "bucket", spec["bucket"])
    if _bucket_exists(state.s3, bucket):
        # The provider checks BucketExists first and refuses; it never adopts a bucket.
        raise ProvisionError(bucket_exists_error(bucket))
    if state.region == "us-east-1":
        state.s3.create_bucket(Bucket=bucket)
    else:
        state.s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": state.region},  # type: ignore[typeddict-item]
        )
    state.buckets.append(bucket)


def _versioning(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(VERSIONING, name, inputs, {"bucket", "versioningConfiguration"})
    status = spec["versioningConfiguration"].get("status")
    if status not in ("Enabled", "Suspended"):
        raise ProvisionError(f"{VERSIONING} {name!r}: status must be Enabled or Suspended")
    state.s3.put_bucket_versioning(
        Bucket=spec["bucket"], VersioningConfiguration={"Status": status}
    )


def _encryption(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(
        ENCRYPTION, name, inputs, {"bucket", "encryptionType"}, frozenset({"kmsKeyId"})
    )
    rule: dict[str, str] = {"SSEAlgorithm": spec["encryptionType"]}
    if spec.get("kmsKeyId"):
        rule["KMSMasterKeyID"] = spec["kmsKeyId"]
    configuration: Any = {"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]}
    state.s3.put_bucket_encryption(
        Bucket=spec["bucket"], ServerSideEncryptionConfiguration=configuration
    )


def _lifecycle(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(LIFECYCLE, name, inputs, {"bucket", "rules"})
    state.s3.put_bucket_lifecycle_configuration(
        Bucket=spec["bucket"],
        LifecycleConfiguration={"Rules": lifecycle_rules(spec["rules"])},  # type: ignore[typeddict-item]
    )


def _bucket_policy(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(BUCKET_POLICY, name, inputs, {"bucket", "policy"})
    policy = plain_input(BUCKET_POLICY, name, "policy", spec["policy"])
    state.s3.put_bucket_policy(Bucket=spec["bucket"], Policy=json.dumps(policy))
    state.public_bucket_policy = True


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _split_admin_statements(
    name: str, policy: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The policy without its MinIO admin statements, and the admin actions they allow."""
    kept: list[Any] = []
    admin: list[str] = []
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
        admin.extend(mine)
    if not kept:
        raise ProvisionError(
            f"{IAM_POLICY} {name!r}: only MinIO admin statements, which the endpoint cannot hold"
        )
    return {**policy, "Statement": kept}, tuple(admin)


def _iam_policy(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(IAM_POLICY, name, inputs, {"name", "policy"})
    plain, admin = _split_admin_statements(
        name, plain_input(IAM_POLICY, name, "policy", spec["policy"])
    )
    if admin:
        state.admin_grants[spec["name"]] = admin
    policy = json.dumps(plain)
    existing = _local_policy_arn(state.iam, spec["name"])
    if existing is None:
        created = state.iam.create_policy(PolicyName=spec["name"], PolicyDocument=policy)
        state.policy_arns[spec["name"]] = created["Policy"]["Arn"]
        return
    # The provider's AddCannedPolicy replaces a policy of that name, silently: so does this.
    for version in state.iam.list_policy_versions(PolicyArn=existing)["Versions"]:
        if not version["IsDefaultVersion"]:  # IAM keeps at most 5 versions
            state.iam.delete_policy_version(PolicyArn=existing, VersionId=version["VersionId"])
    state.iam.create_policy_version(PolicyArn=existing, PolicyDocument=policy, SetAsDefault=True)
    state.policy_arns[spec["name"]] = existing


def _iam_user(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(
        IAM_USER, name, inputs, {"name"}, frozenset({"secret", "forceDestroy", "disableUser"})
    )
    if spec.get("disableUser"):
        raise ProvisionError(f"{IAM_USER} {name!r}: disabled users are not supported")
    user = spec["name"]
    # The provider's AddUser on an existing name replaces its secret (and enables it), silently.
    exists = _user_exists(state.iam, user)
    if not exists:
        state.iam.create_user(UserName=user)
    if "secret" in spec:
        # The render masks which RandomPassword feeds the secret; the program names it
        # "<user resource>-secret". Either way the value is generated here, never shown.
        password = state.passwords.get(f"{name}-secret") or secrets.token_urlsafe(30)
        if exists and _has_login_profile(state.iam, user):
            state.iam.update_login_profile(UserName=user, Password=password)
        else:
            state.iam.create_login_profile(UserName=user, Password=password)
    state.users.append(user)


def _attachment(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(ATTACHMENT, name, inputs, {"userName", "policyName"})
    arn = state.policy_arns.get(spec["policyName"])
    if arn is None:
        raise ProvisionError(
            f"{ATTACHMENT} {name!r}: policy {spec['policyName']!r} is not in the render "
            f"(built-in MinIO policies are not provisioned)"
        )
    state.iam.attach_user_policy(UserName=spec["userName"], PolicyArn=arn)


def _service_account(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    # A "policy" input would narrow the service account below its user's policies; an IAM
    # access key cannot express that, so it is refused rather than ignored.
    spec = checked_inputs(SERVICE_ACCOUNT, name, inputs, {"targetUser"}, frozenset({"description"}))
    key = state.iam.create_access_key(UserName=spec["targetUser"])["AccessKey"]
    state.keys[name] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    state.key_users[name] = spec["targetUser"]


def _bucket_exists(s3: S3Client, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def _local_policy_arn(iam: IAMClient, policy: str) -> str | None:
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for found in page["Policies"]:
            if found["PolicyName"] == policy:
                return found["Arn"]
    return None


def _user_exists(iam: IAMClient, user: str) -> bool:
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


HANDLERS: Final[dict[str, Handler]] = {
    PROVIDER: _no_op,
    COMPONENT: _no_op,
    RANDOM_PASSWORD: _random_password,
    BUCKET: _bucket,
    VERSIONING: _versioning,
    ENCRYPTION: _encryption,
    LIFECYCLE: _lifecycle,
    BUCKET_POLICY: _bucket_policy,
    IAM_POLICY: _iam_policy,
    IAM_USER: _iam_user,
    ATTACHMENT: _attachment,
    SERVICE_ACCOUNT: _service_account,
}
