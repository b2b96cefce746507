"""The ``minio`` plugin the engine runs: the real pulumi-terraform-bridge v3.135.0 over our
Terraform provider. What its Check, Diff and CRUD do, each fact from the bridge's or
terraform-provider-minio v1.20.1's source (the Go file's comments name the function), asked
directly over the provider protocol."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.providers.properties import SECRET_SIGNATURE, SIGNATURE_KEY
from infra import provider_contract as contract
from infra import render_format
from tests.devtools.minio_plugin import MinioPlugin

POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
    ],
}


def _config(endpoint: EmbeddedS3) -> dict[str, Any]:
    return {
        "minioServer": endpoint.endpoint,
        "minioSsl": True,
        "minioCacertFile": endpoint.ca_bundle,
        "minioUser": endpoint.admin.access_key,
        "minioPassword": endpoint.admin.secret_key,
    }


@pytest.fixture(scope="module")
def plugin(embedded_s3: EmbeddedS3) -> Iterator[MinioPlugin]:
    """The plugin, configured as the program configures it, on the embedded endpoint."""
    started = MinioPlugin()
    started.configure(_config(embedded_s3))
    yield started
    started.close()


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_check_fills_no_falsy_default_and_marks_every_object_it_converts(
    plugin: MinioPlugin,
) -> None:
    bucket = plugin.check(render_format.BUCKET, {"bucket": "voice-recordings"})
    assert bucket.failures == []
    assert bucket.inputs == {"bucket": "voice-recordings", "acl": "private", "__defaults": ["acl"]}
    assert {k: v for k, v in bucket.inputs.items() if k != "__defaults"} == {
        "bucket": "voice-recordings",
        **contract.check_defaults(render_format.BUCKET),
    }
    versioning = plugin.check(
        render_format.VERSIONING,
        {"bucket": "b", "versioningConfiguration": {"status": "Enabled"}},
    )
    assert versioning.inputs["versioningConfiguration"] == {"__defaults": [], "status": "Enabled"}
    rules = [{"id": "r", "expiration": "30d", "tags": {"kind": "voice"}}]
    lifecycle = plugin.check(render_format.LIFECYCLE, {"bucket": "b", "rules": rules})
    assert [rule["__defaults"] for rule in lifecycle.inputs["rules"]] == [[]]


@pytest.mark.parametrize(
    ("type_token", "inputs", "field"),
    [
        # status is computed-only: the program cannot set it.
        (render_format.LIFECYCLE, {"bucket": "b", "rules": [{"id": "r", "status": "Enabled"}]}, ""),
        (render_format.LIFECYCLE, {"bucket": "b", "rules": [{"id": "r", "expiration": "5x"}]}, ""),
        (render_format.IAM_POLICY, {"name": "p"}, "policy"),
        (render_format.IAM_POLICY, {"name": "p", "policy": "[]"}, "policy"),
        (render_format.IAM_USER, {"name": "no spaces"}, "name"),
        (render_format.BUCKET, {"bucket": "b" * 64}, "bucket"),
    ],
)
def test_check_refuses_what_the_provider_refuses(
    plugin: MinioPlugin, type_token: str, inputs: dict[str, Any], field: str
) -> None:
    failures = plugin.check(type_token, inputs).failures
    assert failures, inputs
    assert field in " ".join(f"{p} {r}" for p, r in failures)


def test_what_the_provider_refuses_only_at_apply_passes_check(plugin: MinioPlugin) -> None:
    # No validator on acl (resource_minio_s3_bucket.go): an unknown acl fails at Create.
    assert plugin.check(render_format.BUCKET, {"bucket": "b", "acl": "world"}).failures == []


def test_a_named_user_or_policy_is_replaced_delete_before_create(plugin: MinioPlugin) -> None:
    # SetAutonaming (pulumi-minio resources.go): `name` is the autonamed field, so a replace of
    # a resource whose name the program sets deletes the old one first (the names would clash).
    old = plugin.check(render_format.IAM_USER, {"name": "u", "secret": "s1"}).inputs
    renamed = plugin.check(render_format.IAM_USER, {"name": "v", "secret": "s1"}, old).inputs
    diff = plugin.diff(render_format.IAM_USER, "u", {**old, "status": "enabled"}, renamed)
    assert list(diff.replaces) == ["name"]
    assert diff.deleteBeforeReplace
    rotated = plugin.check(render_format.IAM_USER, {"name": "u", "secret": "s2"}, old).inputs
    diff = plugin.diff(render_format.IAM_USER, "u", {**old, "status": "enabled"}, rotated)
    assert list(diff.replaces) == [] and "secret" in diff.diffs
    account = {"targetUser": "a", "accessKey": "K", "status": "on"}
    moved = plugin.check(render_format.SERVICE_ACCOUNT, {"targetUser": "b"}, account).inputs
    diff = plugin.diff(render_format.SERVICE_ACCOUNT, "K", account, moved)
    assert list(diff.replaces) == ["targetUser"] and not diff.deleteBeforeReplace


def test_equivalent_policy_documents_do_not_differ(plugin: MinioPlugin) -> None:
    stored = json.dumps(POLICY)
    reordered = {
        "Statement": [
            {"Resource": "arn:aws:s3:::b/*", "Action": "s3:GetObject", "Effect": "Allow"}
        ],
        "Version": "2012-10-17",
    }
    news = plugin.check(render_format.IAM_POLICY, {"name": "p", "policy": json.dumps(reordered)})
    diff = plugin.diff(render_format.IAM_POLICY, "p", {"name": "p", "policy": stored}, news.inputs)
    assert list(diff.diffs) == []


def test_create_on_an_existing_bucket_fails_and_on_an_existing_user_overwrites(
    plugin: MinioPlugin, embedded_s3: EmbeddedS3
) -> None:
    bucket = _name("exists")
    embedded_s3.s3().create_bucket(Bucket=bucket)
    inputs = plugin.check(render_format.BUCKET, {"bucket": bucket}).inputs
    with pytest.raises(Exception, match="bucket already exists"):
        plugin.create(render_format.BUCKET, inputs)
    user = _name("user")
    embedded_s3.iam().create_user(UserName=user)
    embedded_s3.set_user_secret(user, "first-secret-of-user")
    inputs = plugin.check(render_format.IAM_USER, {"name": user, "secret": "second-secret"}).inputs
    plugin.create(render_format.IAM_USER, inputs)
    assert embedded_s3.user_secret(user) == "second-secret"


def test_read_says_gone_only_where_the_provider_does(plugin: MinioPlugin) -> None:
    missing = _name("missing")
    for type_token in (render_format.BUCKET, render_format.IAM_USER, render_format.LIFECYCLE):
        assert plugin.read(type_token, missing)[0] == "", type_token
    for type_token in (render_format.IAM_POLICY, render_format.SERVICE_ACCOUNT):
        with pytest.raises(Exception, match="FATAL"):
            plugin.read(type_token, missing)


def test_secrets_are_marked_and_a_service_account_reads_its_status_from_the_server(
    plugin: MinioPlugin, embedded_s3: EmbeddedS3
) -> None:
    user = _name("owner")
    inputs = plugin.check(render_format.IAM_USER, {"name": user}).inputs
    _, outputs, wire = plugin.create(render_format.IAM_USER, inputs)
    assert wire.fields["secret"].struct_value[SIGNATURE_KEY] == SECRET_SIGNATURE
    assert len(outputs["secret"]) >= 40  # generateSecretAccessKey when none is given
    inputs = plugin.check(render_format.SERVICE_ACCOUNT, {"targetUser": user}).inputs
    key, outputs, wire = plugin.create(render_format.SERVICE_ACCOUNT, inputs)
    assert wire.fields["secretKey"].struct_value[SIGNATURE_KEY] == SECRET_SIGNATURE
    assert (outputs["status"], outputs["disableUser"]) == ("on", False)
    iam = embedded_s3.iam()
    iam.update_access_key(UserName=user, AccessKeyId=key, Status="Inactive")  # disabled by hand
    _, state = plugin.read(render_format.SERVICE_ACCOUNT, key, outputs)
    assert (state["status"], state["disableUser"]) == ("off", True)
    plugin.delete(render_format.SERVICE_ACCOUNT, key, state)
    # Delete of an account already gone succeeds: it is not in its user's list any more.
    plugin.delete(render_format.SERVICE_ACCOUNT, key, state)


def test_the_admin_statements_of_a_policy_read_back_whole(plugin: MinioPlugin) -> None:
    name = _name("policy")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            *POLICY["Statement"],
            {"Effect": "Allow", "Action": ["admin:ListUsers"], "Resource": ["arn:aws:s3:::*"]},
        ],
    }
    inputs = plugin.check(render_format.IAM_POLICY, {"name": name, "policy": json.dumps(document)})
    plugin.create(render_format.IAM_POLICY, inputs.inputs)
    _, state = plugin.read(render_format.IAM_POLICY, name, {"name": name})
    actions = [a for s in json.loads(state["policy"])["Statement"] for a in s["Action"]]
    assert actions == ["s3:GetObject", "admin:ListUsers"]


def test_import_of_a_locked_bucket_reads_its_object_lock(
    plugin: MinioPlugin, embedded_s3: EmbeddedS3
) -> None:
    bucket = _name("locked")
    embedded_s3.s3().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    # An import is a Read with no state (resourceMinioS3BucketImportState reads object lock).
    id_, state = plugin.read(render_format.BUCKET, bucket)
    assert id_ == bucket
    assert state["objectLocking"] is True


def test_configure_takes_what_the_program_leaves_unset_from_minio_variables(
    embedded_s3: EmbeddedS3,
) -> None:
    config = _config(embedded_s3)
    env = {"MINIO_USER": config.pop("minioUser"), "MINIO_PASSWORD": config.pop("minioPassword")}
    plugin = MinioPlugin(env)
    try:
        plugin.configure(config)
        bucket = _name("env")
        plugin.create(
            render_format.BUCKET, plugin.check(render_format.BUCKET, {"bucket": bucket}).inputs
        )
        assert bucket in [b["Name"] for b in embedded_s3.s3().list_buckets()["Buckets"]]
    finally:
        plugin.close()


def test_a_bucket_policy_removed_behind_the_stack_reads_as_empty_drift(
    plugin: MinioPlugin, embedded_s3: EmbeddedS3
) -> None:
    bucket = _name("public")
    embedded_s3.s3().create_bucket(Bucket=bucket)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["*"]},
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )
    inputs = plugin.check(render_format.BUCKET_POLICY, {"bucket": bucket, "policy": policy})
    id_, state, _ = plugin.create(render_format.BUCKET_POLICY, inputs.inputs)
    embedded_s3.s3().delete_bucket_policy(Bucket=bucket)
    # minio-go's GetBucketPolicy answers NoSuchBucketPolicy with "" and no error, and
    # minioReadBucketPolicy keeps "": the resource stays, its policy differs (not "gone").
    assert plugin.read(render_format.BUCKET_POLICY, id_, state) == (id_, {**state, "policy": ""})
