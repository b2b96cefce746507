"""The provisioner (devtools/provision/): the server holds exactly what the render describes.

Embedded endpoint only (it is the provisioner that is under test); each test resets the endpoint.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.embedded_s3 import ADMIN_USER, EmbeddedS3
from devtools.provision import (
    APPLY_ORDER,
    ATTACHMENT,
    HANDLERS,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    RANDOM_PASSWORD,
    SERVICE_ACCOUNT,
    ApplyError,
    ProvisionError,
    bucket_exists_error,
    lifecycle_rules,
    load_render,
    plan,
    provision,
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
        name = resource["inputs"]["name"]
        policy = policies[name]
        version = iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        document = version["Document"]
        held = json.loads(document) if isinstance(document, str) else document
        # The render's statements, less the MinIO admin ones, which are named instead.
        admin = stack.admin_grants.get(name, ())
        admin_statements = [
            s for s in resource["inputs"]["policy"]["Statement"] if set(s["Action"]) <= set(admin)
        ]
        assert held == {
            **resource["inputs"]["policy"],
            "Statement": [
                s for s in resource["inputs"]["policy"]["Statement"] if s not in admin_statements
            ],
        }
        assert [a for s in admin_statements for a in s["Action"]] == list(admin)
    assert set(stack.admin_grants) == {dev_render["config"][full_key("observerPolicy")]}

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
    statements = resource["inputs"]["policy"]["Statement"]
    store = next(s for s in statements if s["Sid"] == "ReadObjects")
    store["Action"].append("s3:DeleteObject")
    stack = provision_embedded(endpoint, render)
    keys = stack.credentials(render["config"][full_key("uploaderServiceAccount")])

    uploader = MinioUploader(endpoint.settings(keys, bucket=stack.bucket))
    result = uploader.upload_audio(b"x", call_uuid="to-delete", company_id=5)
    uploader.client.delete_object(Bucket=stack.bucket, Key=result.key)  # allowed by this render


def test_a_stack_without_the_reader_gets_no_reader(endpoint: EmbeddedS3) -> None:
    render = render_stack("dev", {full_key("omniplayReader"): "false"})
    stack = provision_embedded(endpoint, render)
    config = render["config"]
    assert sorted(stack.service_accounts) == sorted(
        [
            config[full_key("uploaderServiceAccount")],
            config[full_key("observerServiceAccount")],
            config[full_key("stewardServiceAccount")],
        ]
    )
    assert sorted(stack.users) == sorted(
        config[full_key(key)] for key in ("uploaderUser", "observerUser", "stewardUser")
    )


def test_a_statement_mixing_admin_and_s3_actions_is_refused(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    render = copy.deepcopy(dev_render)
    observer = next(
        r
        for r in of_type(render, IAM_POLICY)
        if r["inputs"]["name"] == render["config"][full_key("observerPolicy")]
    )
    observer["inputs"]["policy"]["Statement"][1]["Action"].append("s3:GetObject")
    with pytest.raises(ProvisionError, match="mixes MinIO admin actions"):
        provision_embedded(endpoint, render)


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


# -- behaving like the provider on a server that is not empty --------------------------------

# An order the engine may pick for resources that are ready together: identities first.
IDENTITIES_FIRST: Final = (IAM_POLICY, IAM_USER, ATTACHMENT, SERVICE_ACCOUNT, *APPLY_ORDER)
_READS: Final = re.compile(r"^(Get|List|Head)")


def recorded_writes(client: Any) -> list[str]:
    """The operations ``client`` sends from now on that change something (not Get/List/Head)."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        if not _READS.match(model.name):
            calls.append(model.name)

    client.meta.events.register("before-call", record)  # every operation of this client
    return calls


def without_bucket_dependencies(render: dict[str, Any]) -> dict[str, Any]:
    """The render as the program made it before identities waited for the bucket."""
    older = copy.deepcopy(render)
    for resource in older["resources"]:
        if resource["type"] in (IAM_POLICY, IAM_USER, ATTACHMENT, SERVICE_ACCOUNT):
            resource["depends_on"] = [d for d in resource["depends_on"] if d != "recordings-bucket"]
    return older


@pytest.mark.parametrize("tie_break", [APPLY_ORDER, IDENTITIES_FIRST], ids=["rank", "identities"])
def test_a_server_that_holds_the_bucket_fails_before_any_identity_changes(
    endpoint: EmbeddedS3, dev_render: dict[str, Any], tie_break: tuple[str, ...]
) -> None:
    first = provision_embedded(endpoint, dev_render)
    uploader_account = dev_render["config"][full_key("uploaderServiceAccount")]
    keys = first.credentials(uploader_account)
    iam, s3 = endpoint.iam(), endpoint.s3()
    iam_writes, s3_writes = recorded_writes(iam), recorded_writes(s3)

    with pytest.raises(ApplyError) as caught:
        provision(dev_render, s3, iam, endpoint.region, tie_break=tie_break)
    # The provider's own error, on the bucket, with no identity applied before it.
    assert caught.value.resource == "S3Bucket 'recordings-bucket'"
    assert bucket_exists_error(first.bucket) in str(caught.value)
    assert iam_writes == [] and s3_writes == []
    assert all(
        a.split()[0] in ("minio", "RecordingStorage", "RandomPassword")
        for a in caught.value.applied
    )
    # The identities that were there still work as before.
    uploader = MinioUploader(endpoint.settings(keys, bucket=first.bucket))
    assert uploader.upload_audio(b"still mine", call_uuid="after-failed-up", company_id=5).key
    assert [
        k["AccessKeyId"]
        for k in iam.list_access_keys(UserName=first.service_account_users[uploader_account])[
            "AccessKeyMetadata"
        ]
    ] == [keys.access_key]


def test_without_the_bucket_dependency_the_engine_may_overwrite_identities_first(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    """Why every identity depends on the bucket: without it, a failed up rewrites them."""
    provision_embedded(endpoint, dev_render)
    iam = endpoint.iam()
    iam_writes = recorded_writes(iam)
    with pytest.raises(ApplyError, match="bucket already exists"):
        provision(
            without_bucket_dependencies(dev_render),
            endpoint.s3(),
            iam,
            endpoint.region,
            tie_break=IDENTITIES_FIRST,
        )
    assert "CreatePolicyVersion" in iam_writes and "UpdateLoginProfile" in iam_writes


def identities_only(render: dict[str, Any]) -> dict[str, Any]:
    kept = {IAM_POLICY, IAM_USER, ATTACHMENT, SERVICE_ACCOUNT, RANDOM_PASSWORD}
    only_identities = copy.deepcopy(render)
    only_identities["resources"] = [r for r in only_identities["resources"] if r["type"] in kept]
    return without_bucket_dependencies(only_identities)


def test_user_and_policy_are_overwritten_and_a_service_account_is_always_new(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    render = identities_only(dev_render)
    first = provision_embedded(endpoint, render)
    changed = copy.deepcopy(render)
    (policy,) = [r for r in of_type(changed, IAM_POLICY) if r["name"] == "uploader-policy"]
    policy["inputs"]["policy"]["Statement"][0]["Sid"] = "Overwritten"
    iam = endpoint.iam()
    iam_writes = recorded_writes(iam)

    second = provision(changed, endpoint.s3(), iam, endpoint.region)

    # Policy: replaced in place (the provider's AddCannedPolicy), the new document in force.
    arn = next(
        p
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == policy["inputs"]["name"]
    )
    version = iam.get_policy_version(PolicyArn=arn["Arn"], VersionId=arn["DefaultVersionId"])
    document = version["PolicyVersion"]["Document"]
    assert (json.loads(document) if isinstance(document, str) else document) == policy["inputs"][
        "policy"
    ]
    # User: its secret replaced (AddUser), no second user.
    assert iam_writes.count("UpdateLoginProfile") == len(of_type(render, IAM_USER))
    assert "CreateUser" not in iam_writes
    # Service account: a new key each time, the old one left in place.
    for name, keys in first.service_accounts.items():
        user = first.service_account_users[name]
        listed = {
            k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        }
        assert listed == {keys.access_key, second.credentials(name).access_key}
        assert keys.access_key != second.credentials(name).access_key


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_plan_puts_every_resource_after_what_it_depends_on(data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=12))
    types = data.draw(st.lists(st.sampled_from(APPLY_ORDER), min_size=count, max_size=count))
    resources: list[dict[str, Any]] = [
        {
            "type": types[i],
            "name": f"r{i}",
            # Only earlier resources: a DAG, listed in any order below.
            "depends_on": sorted(
                data.draw(
                    st.sets(
                        st.sampled_from([f"r{j}" for j in range(i)]) if i else st.nothing(),
                        max_size=i,
                    )
                )
            ),
            "inputs": {},
        }
        for i in range(count)
    ]
    shuffled = data.draw(st.permutations(resources))
    tie_break = data.draw(st.permutations(APPLY_ORDER))
    ordered = [r["name"] for r in plan({"resources": shuffled}, tie_break)]
    assert sorted(ordered) == sorted(str(r["name"]) for r in resources)
    for resource in resources:
        for dependency in resource["depends_on"]:
            assert ordered.index(dependency) < ordered.index(resource["name"])


def test_what_the_provider_refuses_fails_before_anything_is_made(
    endpoint: EmbeddedS3, dev_render: dict[str, Any]
) -> None:
    render = copy.deepcopy(dev_render)
    of_type(render, LIFECYCLE)[0]["inputs"]["rules"][0]["status"] = "Enabled"
    with pytest.raises(ProvisionError, match=r"would refuse the render: .*status is computed-only"):
        provision_embedded(endpoint, render)
    assert endpoint.s3().list_buckets()["Buckets"] == []


def test_plan_refuses_a_cycle_and_an_unknown_dependency() -> None:
    def resource(name: str, needs: list[str]) -> dict[str, Any]:
        return {"type": IAM_USER, "name": name, "depends_on": needs, "inputs": {}}

    with pytest.raises(ProvisionError, match=r"cycle among \['a', 'b'\]"):
        plan({"resources": [resource("a", ["b"]), resource("b", ["a"])]})
    with pytest.raises(ProvisionError, match=r"'a' depends on \['ghost'\]"):
        plan({"resources": [resource("a", ["ghost"])]})
