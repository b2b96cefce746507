"""Importing resources (the adopting render, ``adoptExisting``): :data:`IMPORTERS`.

As Pulumi 3.174+ does: the object must exist under the provider's import id
(:mod:`infra.adoption`), or the import fails and nothing after it runs; then it is updated to the
render's inputs, except those in its ``ignore_changes``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any, Final

from botocore.exceptions import ClientError

import devtools.provision.actions as actions
from devtools.provision.model import (
    ATTACHMENT,
    BUCKET,
    IAM_POLICY,
    IAM_USER,
    SERVICE_ACCOUNT,
    ProvisionError,
    State,
    checked_inputs,
    plain_input,
)
from infra.adoption import split_attachment_id

Importer = Callable[[State, str, str, Mapping[str, Any], frozenset[str]], None]


def _missing(type_: str, name: str, import_id: str, what: str) -> ProvisionError:
    # Pulumi's own words when the provider reads nothing under an import id.
    return ProvisionError(
        f"{type_} {name!r}: import of {import_id!r} failed: resource '{import_id}' does not exist "
        f"({what}); nothing after it was applied"
    )


def _import_bucket(
    state: State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = checked_inputs(BUCKET, name, inputs, {"bucket"}, frozenset({"acl", "forceDestroy"}))
    if spec["bucket"] != import_id:
        raise ProvisionError(f"{BUCKET} {name!r}: bucket {spec['bucket']!r} != import id")
    try:
        state.s3.head_bucket(Bucket=import_id)
    except ClientError:
        raise _missing(BUCKET, name, import_id, "no such bucket") from None
    # acl "private" sets no policy (the provider's minioSetBucketACL): nothing to update.
    state.buckets.append(import_id)


def _import_user(
    state: State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = checked_inputs(
        IAM_USER, name, inputs, {"name"}, frozenset({"secret", "forceDestroy", "disableUser"})
    )
    if spec["name"] != import_id:
        raise ProvisionError(f"{IAM_USER} {name!r}: name {spec['name']!r} != import id")
    try:
        state.iam.get_user(UserName=import_id)
    except ClientError:
        raise _missing(IAM_USER, name, import_id, "no such user") from None
    if "secret" in spec and "secret" not in ignored:
        # An update would overwrite the password: what the provider does, so do it here too.
        password = state.passwords.get(f"{name}-secret") or secrets.token_urlsafe(30)
        try:
            state.iam.update_login_profile(UserName=import_id, Password=password)
        except ClientError:
            state.iam.create_login_profile(UserName=import_id, Password=password)
    state.users.append(import_id)


def _import_policy(
    state: State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = checked_inputs(IAM_POLICY, name, inputs, {"name", "policy"})
    if spec["name"] != import_id:
        raise ProvisionError(f"{IAM_POLICY} {name!r}: name {spec['name']!r} != import id")
    found = [
        p
        for page in state.iam.get_paginator("list_policies").paginate(Scope="Local")
        for p in page["Policies"]
        if p["PolicyName"] == import_id
    ]
    if not found:
        raise _missing(IAM_POLICY, name, import_id, "no such policy")
    arn = found[0]["Arn"]
    if "policy" not in ignored:
        # The provider's update is AddCannedPolicy with the render's document (a new version).
        actions.put_policy(
            state.iam, import_id, plain_input(IAM_POLICY, name, "policy", spec["policy"])
        )
    state.policy_arns[import_id] = arn


def _import_attachment(
    state: State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = checked_inputs(ATTACHMENT, name, inputs, {"userName", "policyName"})
    try:
        user, policy = split_attachment_id(import_id)
    except ValueError as exc:
        raise ProvisionError(f"{ATTACHMENT} {name!r}: {exc}") from None
    if (user, policy) != (spec["userName"], spec["policyName"]):
        raise ProvisionError(f"{ATTACHMENT} {name!r}: inputs differ from import id {import_id!r}")
    try:
        attached = state.iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    except ClientError:
        attached = []
    if policy not in {p["PolicyName"] for p in attached}:
        raise _missing(ATTACHMENT, name, import_id, f"{policy} is not attached to {user}")


def _import_service_account(
    state: State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = checked_inputs(SERVICE_ACCOUNT, name, inputs, {"targetUser"}, frozenset({"description"}))
    user = spec["targetUser"]
    try:
        keys = state.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    except ClientError:
        keys = []
    if import_id not in {k["AccessKeyId"] for k in keys}:
        raise _missing(SERVICE_ACCOUNT, name, import_id, f"no service account of {user} has it")
    state.imported_keys[name] = import_id
    state.key_users[name] = user


IMPORTERS: Final[dict[str, Importer]] = {
    BUCKET: _import_bucket,
    IAM_USER: _import_user,
    IAM_POLICY: _import_policy,
    ATTACHMENT: _import_attachment,
    SERVICE_ACCOUNT: _import_service_account,
}
