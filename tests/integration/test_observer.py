"""The read-only observer (CI's preview and drift identity), proven on a live endpoint.

It can make every S3 read that ``pulumi preview --refresh`` makes for this stack (the provider's
Read functions, listed in ``voice_recordings.permissions``), and every write the deploy performs
is denied to it, as are the recordings themselves. Runs on every target (see ``conftest.py``).

The observer's MinIO admin reads (``admin:GetUser``, ``admin:GetPolicy``,
``admin:ListServiceAccounts``) go through MinIO's admin API, which moto does not serve (the
embedded endpoint grants them as the IAM reads the ``minio`` plugin makes for them:
tests/devtools/test_moto_compat.py; the drift job of tests/engine/test_pipeline.py refreshes
with them). What the deploy wrote is read from the engine's state here (every one granted, in
statements of their own), and the guardrail ``observer-read-only`` checks that they are reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.config import full_key
from infra.render_format import (
    ATTACHMENT,
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    ENCRYPTION,
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    PROVIDER,
    RANDOM_PASSWORD,
    RANDOM_PROVIDER,
    SERVICE_ACCOUNT,
    STACK,
    TYPE_TOKENS,
    VERSIONING,
)
from tests.integration.test_least_privilege import AUDIO, WHEN, error_code
from tests.support import Target
from voice_recordings import MinioUploader
from voice_recordings.permissions import OBSERVER_ADMIN_ACTIONS, OBSERVER_S3_ACTIONS

pytestmark = pytest.mark.integration

# An answer that proves the read was allowed: the configuration is simply not there.
NOT_CONFIGURED = {
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
}

# Each S3 action of the observer's policy -> the call the provider's Read makes with it.
REFRESH_READS: dict[str, Callable[[Any, str], Any]] = {
    "s3:ListBucket": lambda s3, bucket: s3.head_bucket(Bucket=bucket),
    "s3:GetBucketVersioning": lambda s3, bucket: s3.get_bucket_versioning(Bucket=bucket),
    "s3:GetLifecycleConfiguration": lambda s3, bucket: s3.get_bucket_lifecycle_configuration(
        Bucket=bucket
    ),
    "s3:GetBucketPolicy": lambda s3, bucket: s3.get_bucket_policy(Bucket=bucket),
    "s3:GetEncryptionConfiguration": lambda s3, bucket: s3.get_bucket_encryption(Bucket=bucket),
}

_OPEN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
}
_LIFECYCLE = {
    "Rules": [
        {"ID": "erase-everything", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}
    ]
}
_SSE: Any = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}

# What the deploy does on the server, by resource type (create, update and delete alike).
S3Attempt = Callable[[Any, Target, str], Any]
S3_WRITES: dict[str, dict[str, S3Attempt]] = {
    BUCKET: {
        "create a bucket": lambda s3, t, key: s3.create_bucket(Bucket=f"{t.bucket}-new"),
        "delete the bucket": lambda s3, t, key: s3.delete_bucket(Bucket=t.bucket),
    },
    VERSIONING: {
        "suspend versioning": lambda s3, t, key: s3.put_bucket_versioning(
            Bucket=t.bucket, VersioningConfiguration={"Status": "Suspended"}
        ),
    },
    LIFECYCLE: {
        "change the lifecycle": lambda s3, t, key: s3.put_bucket_lifecycle_configuration(
            Bucket=t.bucket, LifecycleConfiguration=_LIFECYCLE
        ),
        "delete the lifecycle": lambda s3, t, key: s3.delete_bucket_lifecycle(Bucket=t.bucket),
    },
    BUCKET_POLICY: {
        "put a bucket policy": lambda s3, t, key: s3.put_bucket_policy(
            Bucket=t.bucket, Policy=json.dumps(_OPEN_POLICY)
        ),
        "delete the bucket policy": lambda s3, t, key: s3.delete_bucket_policy(Bucket=t.bucket),
    },
    ENCRYPTION: {
        "configure encryption": lambda s3, t, key: s3.put_bucket_encryption(
            Bucket=t.bucket, ServerSideEncryptionConfiguration=_SSE
        ),
        "remove encryption": lambda s3, t, key: s3.delete_bucket_encryption(Bucket=t.bucket),
    },
}
# The recordings are personal data: refresh never needs them, so the observer cannot touch them.
S3_DATA: dict[str, S3Attempt] = {
    "read a recording": lambda s3, t, key: s3.get_object(Bucket=t.bucket, Key=key),
    "overwrite a recording": lambda s3, t, key: s3.put_object(Bucket=t.bucket, Key=key, Body=b"x"),
    "delete a recording": lambda s3, t, key: s3.delete_object(Bucket=t.bucket, Key=key),
    "list old versions": lambda s3, t, key: s3.list_object_versions(Bucket=t.bucket),
}

IamAttempt = Callable[[Any, Target], Any]


def _user(target: Target, key: str = "uploaderUser") -> str:
    return str(target.render["config"][full_key(key)])


IAM_WRITES: dict[str, dict[str, IamAttempt]] = {
    IAM_POLICY: {
        "create a policy": lambda iam, t: iam.create_policy(
            PolicyName="intruder-policy", PolicyDocument=json.dumps(_OPEN_POLICY)
        ),
    },
    IAM_USER: {
        "create a user": lambda iam, t: iam.create_user(UserName="intruder"),
        "delete a user": lambda iam, t: iam.delete_user(UserName=_user(t)),
        "set a user's password": lambda iam, t: iam.create_login_profile(
            UserName=_user(t, "observerUser"), Password="Intruder-Passw0rd!"
        ),
    },
    IAM_GROUP_POLICY: {
        "put a group policy": lambda iam, t: iam.put_group_policy(
            GroupName="intruders", PolicyName="intruder", PolicyDocument=json.dumps(_OPEN_POLICY)
        ),
    },
    ATTACHMENT: {
        "attach a policy": lambda iam, t: iam.attach_user_policy(
            UserName=_user(t, "observerUser"),
            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
        ),
    },
    SERVICE_ACCOUNT: {
        "create a key for the uploader": lambda iam, t: iam.create_access_key(UserName=_user(t)),
        "create a key for itself": lambda iam, t: iam.create_access_key(
            UserName=_user(t, "observerUser")
        ),
    },
}


def _flat(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: attempt for group in groups.values() for name, attempt in group.items()}


def test_each_observer_s3_action_is_a_refresh_read_tested_here() -> None:
    assert set(REFRESH_READS) == set(OBSERVER_S3_ACTIONS)


def test_every_resource_type_the_deploy_writes_has_its_writes_tried() -> None:
    # A new resource type of the contract (render_format's tokens) needs its denials here.
    nothing_on_the_server = {PROVIDER, COMPONENT, RANDOM_PASSWORD, STACK, RANDOM_PROVIDER}
    assert set(TYPE_TOKENS) == set(S3_WRITES) | set(IAM_WRITES) | nothing_on_the_server


@pytest.mark.parametrize("action", sorted(REFRESH_READS))
def test_observer_reads_what_refresh_reads(target: Target, action: str) -> None:
    s3 = target.s3(target.observer)
    try:
        REFRESH_READS[action](s3, target.bucket)
    except ClientError as exc:
        code = str(exc.response["Error"]["Code"])
        assert code in NOT_CONFIGURED, f"{action}: {code}"


def test_observer_sees_the_lifecycle_the_admin_sees(target: Target) -> None:
    mine = target.s3(target.observer).get_bucket_lifecycle_configuration(Bucket=target.bucket)
    admins = target.s3(target.admin).get_bucket_lifecycle_configuration(Bucket=target.bucket)
    assert mine["Rules"] == admins["Rules"] and mine["Rules"]


def test_observer_reads_the_public_bucket_policy(public_target: Target) -> None:
    s3 = public_target.s3(public_target.observer)
    document = json.loads(s3.get_bucket_policy(Bucket=public_target.bucket)["Policy"])
    assert document["Statement"][0]["Action"] in ("s3:GetObject", ["s3:GetObject"])


@pytest.fixture(scope="module")
def victim(target: Target, company_id: int) -> str:
    """A recording the uploader stored (the observer must not read, change or delete it)."""
    uploader = MinioUploader(target.settings(target.uploader))
    return uploader.upload_audio(
        AUDIO, call_uuid=f"observed-{company_id}", company_id=company_id, when=WHEN
    ).key


@pytest.mark.parametrize("attempt", sorted(_flat(S3_WRITES) | S3_DATA))
def test_observer_is_denied_every_s3_write(target: Target, victim: str, attempt: str) -> None:
    s3 = target.s3(target.observer)
    call = (_flat(S3_WRITES) | S3_DATA)[attempt]
    assert error_code(lambda: call(s3, target, victim)) == "AccessDenied"
    admin = target.s3(target.admin)
    assert admin.get_object(Bucket=target.bucket, Key=victim)["Body"].read() == AUDIO
    versioning = admin.get_bucket_versioning(Bucket=target.bucket)
    assert versioning.get("Status") == "Enabled"


@pytest.mark.parametrize("attempt", sorted(_flat(IAM_WRITES)))
def test_observer_is_denied_every_iam_write(target: Target, attempt: str) -> None:
    iam = target.iam(target.observer)
    assert error_code(lambda: _flat(IAM_WRITES)[attempt](iam, target)) == "AccessDenied"


def test_the_admin_reads_are_granted_and_named_not_dropped(target: Target) -> None:
    if target.deployment is None:
        pytest.skip("a real MinIO enforces the admin actions itself: `mc admin user info` as it")
    deployment = target.deployment
    policy = str(target.render["config"][full_key("observerPolicy")])
    state = deployment.workspace.export(deployment.stack)["deployment"]["resources"]
    (written,) = [
        json.loads(r["outputs"]["policy"])
        for r in state
        if r["type"] == IAM_POLICY and r["outputs"].get("name") == policy
    ]
    statements = written["Statement"]
    admin = [s for s in statements if any(a.startswith("admin:") for a in s["Action"])]
    # Statements of their own (MinIO refuses a statement mixing admin and S3 actions).
    assert all(all(a.startswith("admin:") for a in s["Action"]) for s in admin)
    assert tuple(a for s in admin for a in s["Action"]) == OBSERVER_ADMIN_ACTIONS
