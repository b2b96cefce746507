"""The embedded endpoint reads a policy's MinIO admin statements as MinIO does: the admin reads
they allow are granted, as the IAM calls the ``minio`` plugin makes for them, and nothing else
(devtools/endpoint/moto_compat.py). CI's observer refreshes a stack with exactly these reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence

import pytest

from devtools.demos.checks import error_code
from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from devtools.endpoint.moto_compat import ADMIN_STATEMENTS_TAG

# As the plugin keeps a canned policy (tools/provider/minio/admin.go, addCannedPolicy): the S3
# statements in the document, the admin ones in a tag.
S3_STATEMENT = {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::x"]}
OBSERVER_ADMIN = [
    {
        "Effect": "Allow",
        "Action": ["admin:GetPolicy", "admin:GetUser", "admin:ListServiceAccounts"],
    }
]


def _identity(endpoint: EmbeddedS3, admin_statements: Sequence[object] | None) -> Credentials:
    iam = endpoint.iam()
    name = f"user-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    held = json.dumps(admin_statements)
    arn = iam.create_policy(
        PolicyName=f"{name}-policy",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [S3_STATEMENT]}),
        Tags=[{"Key": ADMIN_STATEMENTS_TAG, "Value": held}] if admin_statements is not None else [],
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def test_the_admin_reads_a_policy_allows_are_the_plugins_iam_reads(
    embedded_s3: EmbeddedS3,
) -> None:
    observer = _identity(embedded_s3, OBSERVER_ADMIN)
    iam = embedded_s3.iam(observer)
    user = embedded_s3.iam().list_users()["Users"][0]["UserName"]
    policy = embedded_s3.iam().list_policies(Scope="Local")["Policies"][0]
    reads: dict[str, Callable[[], object]] = {
        "GetUser": lambda: iam.get_user(UserName=user),
        "ListAttachedUserPolicies": lambda: iam.list_attached_user_policies(UserName=user),
        "ListPolicies": lambda: iam.list_policies(Scope="Local"),
        "GetPolicy": lambda: iam.get_policy(PolicyArn=policy["Arn"]),
        "GetPolicyVersion": lambda: iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        ),
        "ListAccessKeys": lambda: iam.list_access_keys(UserName=user),
        "GetAccessKeyLastUsed": lambda: iam.get_access_key_last_used(
            AccessKeyId=observer.access_key
        ),
    }
    assert {name: error_code(call) for name, call in reads.items()} == dict.fromkeys(reads)
    writes: dict[str, Callable[[], object]] = {
        "CreateUser": lambda: iam.create_user(UserName="intruder"),
        "CreateAccessKey": lambda: iam.create_access_key(UserName=user),
        "TagPolicy": lambda: iam.tag_policy(
            PolicyArn=policy["Arn"], Tags=[{"Key": "k", "Value": "v"}]
        ),
    }
    assert {name: error_code(call) for name, call in writes.items()} == dict.fromkeys(
        writes, "AccessDenied"
    )


@pytest.mark.parametrize(
    "admin_statements",
    [
        None,
        [{"Effect": "Allow", "Action": ["admin:CreateUser"]}],
        [{"Effect": "Deny", "Action": ["admin:GetUser"]}],
    ],
    ids=["no admin statement", "another admin action", "a deny"],
)
def test_no_admin_read_without_a_statement_allowing_it(
    embedded_s3: EmbeddedS3, admin_statements: Sequence[object] | None
) -> None:
    iam = embedded_s3.iam(_identity(embedded_s3, admin_statements))
    assert error_code(lambda: iam.list_policies(Scope="Local")) == "AccessDenied"
    assert error_code(lambda: iam.create_user(UserName="intruder")) == "AccessDenied"
