"""Creating resources: one resource of the render, one action on the endpoint (:data:`HANDLERS`).

Each handler behaves as the provider (terraform-provider-minio v1.20.1) does on a server that may
not be empty: a bucket that exists is refused, a user or policy that exists is overwritten.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any, Final

import devtools.provision.actions as actions
from devtools.provision.lifecycle import lifecycle_rules
from devtools.provision.model import (
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
    checked_inputs,
    plain_input,
)

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
    actions.create_bucket(state.s3, state.region, bucket)
    state.buckets.append(bucket)


def _versioning(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(VERSIONING, name, inputs, {"bucket", "versioningConfiguration"})
    actions.put_versioning(state.s3, spec["bucket"], spec["versioningConfiguration"].get("status"))


def _encryption(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(
        ENCRYPTION, name, inputs, {"bucket", "encryptionType"}, frozenset({"kmsKeyId"})
    )
    actions.put_encryption(state.s3, spec["bucket"], spec["encryptionType"], spec.get("kmsKeyId"))


def _lifecycle(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(LIFECYCLE, name, inputs, {"bucket", "rules"})
    actions.put_lifecycle(state.s3, spec["bucket"], lifecycle_rules(spec["rules"]))


def _bucket_policy(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(BUCKET_POLICY, name, inputs, {"bucket", "policy"})
    policy = plain_input(BUCKET_POLICY, name, "policy", spec["policy"])
    actions.put_bucket_policy(state.s3, spec["bucket"], policy)
    state.public_bucket_policy = True


def _iam_policy(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(IAM_POLICY, name, inputs, {"name", "policy"})
    policy = plain_input(IAM_POLICY, name, "policy", spec["policy"])
    # The provider's AddCannedPolicy replaces a policy of that name, silently: so does this.
    arn, admin = actions.put_policy(state.iam, spec["name"], policy)
    if admin:
        state.admin_grants[spec["name"]] = admin
    state.policy_arns[spec["name"]] = arn


def _iam_user(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(
        IAM_USER, name, inputs, {"name"}, frozenset({"secret", "forceDestroy", "disableUser"})
    )
    if spec.get("disableUser"):
        raise ProvisionError(f"{IAM_USER} {name!r}: disabled users are not supported")
    password = None
    if "secret" in spec:
        # The render masks which RandomPassword feeds the secret; the program names it
        # "<user resource>-secret". Either way the value is generated here, never shown.
        password = state.passwords.get(f"{name}-secret") or secrets.token_urlsafe(30)
    # The provider's AddUser on an existing name replaces its secret (and enables it), silently.
    actions.put_user(state.iam, spec["name"], password)
    state.users.append(spec["name"])


def _attachment(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = checked_inputs(ATTACHMENT, name, inputs, {"userName", "policyName"})
    if spec["policyName"] not in state.policy_arns:
        raise ProvisionError(
            f"{ATTACHMENT} {name!r}: policy {spec['policyName']!r} is not in the render "
            f"(built-in MinIO policies are not provisioned)"
        )
    actions.attach(state.iam, spec["userName"], spec["policyName"])


def _service_account(state: State, name: str, inputs: Mapping[str, Any]) -> None:
    # A "policy" input would narrow the service account below its user's policies; an IAM
    # access key cannot express that, so it is refused rather than ignored.
    spec = checked_inputs(SERVICE_ACCOUNT, name, inputs, {"targetUser"}, frozenset({"description"}))
    state.keys[name] = actions.create_service_account(state.iam, spec["targetUser"])
    state.key_users[name] = spec["targetUser"]


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
