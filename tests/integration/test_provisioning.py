"""The provisioner (devtools/provision.py): the server holds exactly what the render describes.

Embedded endpoint only (it is the provisioner that is under test); each test resets the endpoint.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.embedded_s3 import ADMIN_USER, EmbeddedS3
from devtools.provision import (
    ATTACHMENT,
    HANDLERS,
    IAM_POLICY,
    IAM_USER,
    SERVICE_ACCOUNT,
    ProvisionError,
    lifecycle_rules,
    load_render,
    plan,
    provision_embedded,
)
from infra.config import full_key
from infra.render import render_stack, snapshot_path
from voice_recordings import MinioUploader

pytestmark = pytest.mark.integration


@pytest.fixture
def endpoint(embedded_s3: EmbeddedS3) -> Iterator[EmbeddedS3]:
    embedded_s3.reset()
    yield embedded_s3


@pytest.fixture(scope="module")
def dev_render() -> dict[str, Any]:
    return render_stack("dev")


def of_type(render: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in render["resources"] if r["type"] == type_]


def test_every_resource_is_applied_once_and_the_iam_state_equals_the_render(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    stack = provision_embedded(endpoint, dev_render)
    iam = endpoint.iam()

    assert stack.resource_counts == Counter(r["type"] for r in dev_render["resources"])
    users = {u["UserName"] for u in iam.list_users()["Users"]} - {ADMIN_USER}
    assert users == {r["inputs"]["name"] for r in of_type(dev_render, IAM_USER)}

    policies = {p["PolicyName"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    for resource in of_type(dev_render, IAM_POLICY):
        policy = policies[resource["inputs"]["name"]]
        version = iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        document = version["Document"]
        assert (json.loads(document) if isinstance(document, str) else document) == resource[
            "inputs"
        ]["policy"]

    for resource in of_type(dev_render, ATTACHMENT):
        attached = iam.list_attached_user_policies(UserName=resource["inputs"]["userName"])
        names = [p["PolicyName"] for p in attached["AttachedPolicies"]]
        assert names == [resource["inputs"]["policyName"]]  # exactly one policy per user

    for resource in of_type(dev_render, SERVICE_ACCOUNT):
        user = resource["inputs"]["targetUser"]
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [stack.credentials(resource["name"]).access_key]
        assert iam.get_login_profile(UserName=user)["LoginProfile"]["UserName"] == user


def test_secrets_are_never_printed(
    endpoint: EmbeddedS3,
    dev_render: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = provision_embedded(endpoint, dev_render)
    shown = repr(stack) + capsys.readouterr().out + capsys.readouterr().err + caplog.text
    for credentials in stack.service_accounts.values():
        assert credentials.access_key in repr(stack)  # key ids are not secret
        assert credentials.secret_key not in shown


def test_the_render_is_the_only_source_of_policy(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    # A render whose uploader policy also allows delete: the server must enforce that render.
    render = copy.deepcopy(dev_render)
    uploader_policy = render["config"][full_key("uploaderPolicy")]
    (resource,) = [r for r in of_type(render, IAM_POLICY) if r["inputs"]["name"] == uploader_policy]
    resource["inputs"]["policy"]["Statement"][-1]["Action"].append("s3:DeleteObject")
    stack = provision_embedded(endpoint, render)
    keys = stack.credentials(render["config"][full_key("uploaderServiceAccount")])

    uploader = MinioUploader(endpoint.settings(keys, bucket=stack.bucket))
    result = uploader.upload_audio(b"x", "to-delete", 5)
    uploader.client.delete_object(Bucket=stack.bucket, Key=result.key)  # allowed by this render


def test_a_stack_without_the_reader_gets_no_reader(endpoint: EmbeddedS3) -> None:
    render = render_stack("dev", {full_key("omniplayReader"): "false"})
    stack = provision_embedded(endpoint, render)
    assert list(stack.service_accounts) == [render["config"][full_key("uploaderServiceAccount")]]
    assert stack.users == (render["config"][full_key("uploaderUser")],)


def test_an_unknown_type_is_an_error_naming_it_before_anything_is_made(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    render = copy.deepcopy(dev_render)
    render["resources"].append(
        {"type": "minio:index/s3BucketNotification:S3BucketNotification", "name": "n", "inputs": {}}
    )
    with pytest.raises(ProvisionError, match="s3BucketNotification:S3BucketNotification"):
        provision_embedded(endpoint, render)
    assert endpoint.s3().list_buckets()["Buckets"] == []


def test_an_input_the_provisioner_would_ignore_is_an_error(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    # A service account narrowed by its own policy cannot be an IAM access key: refuse it.
    render = copy.deepcopy(dev_render)
    of_type(render, SERVICE_ACCOUNT)[0]["inputs"]["policy"] = {"Statement": []}
    with pytest.raises(ProvisionError, match=r"IamServiceAccount.*unsupported inputs \['policy'\]"):
        provision_embedded(endpoint, render)


def test_order_comes_from_dependencies_not_from_the_render(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    render = copy.deepcopy(dev_render)
    render["resources"].reverse()  # attachments and service accounts before users and policies
    stack = provision_embedded(endpoint, render)
    s3 = endpoint.s3(stack.credentials(render["config"][full_key("uploaderServiceAccount")]))
    s3.put_object(Bucket=stack.bucket, Key="company_5/voice/2026/01/15/order.mp3", Body=b"x")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=stack.bucket, Key="company_5/voice/2026/01/15/order.mp3")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_snapshots_have_only_known_types(stack: str) -> None:
    ordered = plan(load_render(snapshot_path(stack)))
    assert {r["type"] for r in ordered} <= set(HANDLERS)


def test_lifecycle_translation() -> None:
    rules = lifecycle_rules(
        [
            {
                "id": "one-tag",
                "expiration": "30d",
                "tags": {"kind": "voice"},
                "noncurrentVersionExpirationDays": 7,
            },
            {
                "id": "tags-and-prefix",
                "expiration": "5d",
                "tags": {"b": "2", "a": "1"},
                "filter": "x/",
            },
            {"id": "prefix-only", "expiration": "1d", "filter": "tmp/"},
            {"id": "markers", "expiration": "DeleteMarker"},
        ]
    )
    assert rules == [
        {
            "ID": "one-tag",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": "kind", "Value": "voice"}},
            "Expiration": {"Days": 30},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        },
        {
            "ID": "tags-and-prefix",
            "Status": "Enabled",
            "Filter": {
                "And": {
                    "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
                    "Prefix": "x/",
                }
            },
            "Expiration": {"Days": 5},
        },
        {
            "ID": "prefix-only",
            "Status": "Enabled",
            "Filter": {"Prefix": "tmp/"},
            "Expiration": {"Days": 1},
        },
        {
            "ID": "markers",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
        },
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "r", "expiration": "2027-01-01"}, "expiration must be '<N>d'"),
        ({"id": "r", "expiration": "0d"}, "expiration must be '<N>d'"),
        ({"id": "r", "transition": "30d"}, r"unsupported fields \['transition'\]"),
        ({"expiration": "30d"}, "needs an id"),
        ({"id": "r", "expiration": "5d", "status": "Enabled"}, r"unsupported fields \['status'\]"),
    ],
)
def test_lifecycle_translation_refuses_what_it_cannot_express(
    rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProvisionError, match=message):
        lifecycle_rules([rule])


def test_a_named_kms_key_encrypts_the_bucket(endpoint: EmbeddedS3) -> None:
    render = render_stack("prod", {"voice-recordings:encryptionKeyId": "voice-recordings-key"})
    provisioned = provision_embedded(endpoint, render)
    rules = endpoint.s3().get_bucket_encryption(Bucket=provisioned.bucket)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert [r["ApplyServerSideEncryptionByDefault"] for r in rules] == [
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "voice-recordings-key"}
    ]
