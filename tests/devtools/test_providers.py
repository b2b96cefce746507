"""The stand-in provider plugins behave as the providers they stand in for, where that decides
what a deploy does (each fact: infra/provider_contract.py, with its source file)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from devtools.embedded_s3 import EmbeddedS3
from devtools.providers import minio_provider as minio
from devtools.providers.properties import (
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN,
    from_struct,
    to_struct,
)
from devtools.providers.random_provider import RandomPassword
from devtools.provision.model import bucket_exists_error
from infra import provider_contract as contract
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV

R: dict[str, Any] = dict(minio.RESOURCES)
POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
    ],
}


@pytest.fixture(scope="module")
def client(embedded_s3: EmbeddedS3) -> minio.MinioClient:
    """The provider configured as the program configures it, on the embedded endpoint."""
    return minio.configure(
        {
            "minioServer": embedded_s3.endpoint,
            "minioSsl": "true",
            "minioCacertFile": embedded_s3.ca_bundle,
            "minioUser": embedded_s3.admin.access_key,
            "minioPassword": embedded_s3.admin.secret_key,
        }
    )


def test_check_fills_the_schema_defaults_and_refuses_what_the_provider_refuses() -> None:
    inputs, failures = R[contract.BUCKET_TYPE].check({}, {"bucket": "voice-recordings"})
    assert (inputs["acl"], inputs["forceDestroy"], inputs["objectLocking"]) == (
        "private",
        False,
        False,
    )
    assert failures == []
    _, failures = R[contract.BUCKET_TYPE].check({}, {"bucket": "b", "acl": "world"})
    assert [f.property for f in failures] == ["acl"]
    rules = [{"id": "r", "expiration": "1d", "status": "Enabled"}]
    _, failures = R[contract.LIFECYCLE_TYPE].check({}, {"bucket": "b", "rules": rules})
    assert any("computed-only" in f.reason for f in failures)
    _, failures = R[contract.IAM_POLICY_TYPE].check({}, {"name": "p"})
    assert [f.property for f in failures] == ["policy"]
    # A value a preview does not know yet is not judged.
    _, failures = R[contract.IAM_USER_TYPE].check({}, {"name": UNKNOWN})
    assert failures == []


def test_diff_replaces_exactly_on_force_new_inputs() -> None:
    user = R[contract.IAM_USER_TYPE]
    old = {"name": "u", "secret": "s1", "forceDestroy": False, "status": "enabled"}
    assert user.diff(old, {**old, "secret": "s2"}, ()).replaces == ()
    renamed = user.diff(old, {**old, "name": "v"}, ())
    assert renamed.replaces == ("name",)
    account = R[contract.SERVICE_ACCOUNT_TYPE]
    assert account.diff({"targetUser": "a"}, {"targetUser": "b"}, ()).replaces == ("targetUser",)
    for type_, attributes in ((t, c.attributes) for t, c in contract.CONTRACTS.items() if t in R):
        for name, attribute in attributes.items():
            if attribute.mode == "computed" or attribute.block is not None:
                continue
            diff = R[type_].diff({name: "old"}, {name: "new"}, ())
            assert (name in diff.replaces) == attribute.force_new, (type_, name)


def test_diff_compares_with_what_read_read_back() -> None:
    account = R[contract.SERVICE_ACCOUNT_TYPE]
    state = {"targetUser": "u", "policy": json.dumps(POLICY), "status": "on", "secretKey": "x"}
    # Read reports the parent's policy; a program that sets none sees a diff on every plan...
    assert account.diff(state, {"targetUser": "u"}, ()).changed == ("policy",)
    # ... unless it ignores the input, as infra/storage.py does (ignored_changes).
    ignored = contract.ignored_changes(contract.SERVICE_ACCOUNT_TYPE)
    assert account.diff(state, {"targetUser": "u"}, ignored).changed == ()
    versioning = R[contract.VERSIONING_TYPE]
    read_back = {
        "bucket": "b",
        "versioningConfiguration": {
            "status": "Enabled",
            "excludedPrefixes": [],
            "excludeFolders": False,
        },
    }
    assert (
        versioning.diff(
            read_back, {"bucket": "b", "versioningConfiguration": {"status": "Enabled"}}, ()
        ).changed
        == ()
    )
    lifecycle = R[contract.LIFECYCLE_TYPE]
    rule = {"id": "r", "expiration": "30d", "tags": {"kind": "voice"}}
    read_rule = {**rule, "status": "Enabled", "filter": "", "noncurrentVersionExpirationDays": 0}
    assert (
        lifecycle.diff(
            {"bucket": "b", "rules": [read_rule]}, {"bucket": "b", "rules": [rule]}, ()
        ).changed
        == ()
    )
    assert lifecycle.diff(
        {"bucket": "b", "rules": [read_rule]},
        {"bucket": "b", "rules": [{**rule, "expiration": "31d"}]},
        (),
    ).changed == ("rules",)


def test_equivalent_policy_documents_do_not_differ() -> None:
    policy = R[contract.IAM_POLICY_TYPE]
    shuffled = {
        "Statement": {"Resource": "arn:aws:s3:::b/*", "Action": "s3:GetObject", "Effect": "Allow"},
        "Version": "2012-10-17",
    }
    assert (
        policy.diff(
            {"name": "p", "policy": json.dumps(POLICY)},
            {"name": "p", "policy": json.dumps(shuffled)},
            (),
        ).changed
        == ()
    )
    wider = {**POLICY, "Statement": [{**POLICY["Statement"][0], "Action": ["s3:*"]}]}
    assert policy.diff(
        {"name": "p", "policy": json.dumps(POLICY)}, {"name": "p", "policy": json.dumps(wider)}, ()
    ).changed == ("policy",)


def test_create_on_an_existing_bucket_fails_and_on_an_existing_user_overwrites(
    client: minio.MinioClient, embedded_s3: EmbeddedS3
) -> None:
    bucket = f"exists-{uuid.uuid4().hex[:8]}"
    embedded_s3.s3().create_bucket(Bucket=bucket)
    with pytest.raises(
        ValueError,
        match=bucket_exists_error(bucket)
        .replace("[", r"\[")
        .replace("(", r"\(")
        .replace(")", r"\)"),
    ):
        R[contract.BUCKET_TYPE].create(client, {"bucket": bucket}, preview=False)
    user = f"user-{uuid.uuid4().hex[:8]}"
    R[contract.IAM_USER_TYPE].create(
        client, {"name": user, "secret": "first-secret-1"}, preview=False
    )
    R[contract.IAM_USER_TYPE].create(
        client, {"name": user, "secret": "second-secret-2"}, preview=False
    )
    assert embedded_s3.user_secret(user) == "second-secret-2"


def test_read_says_gone_only_where_the_provider_does(
    client: minio.MinioClient, embedded_s3: EmbeddedS3
) -> None:
    gone = f"gone-{uuid.uuid4().hex[:8]}"
    assert R[contract.BUCKET_TYPE].read(client, gone, {}) is None  # minioReadBucket
    assert R[contract.IAM_USER_TYPE].read(client, gone, {}) is None  # minioReadUser
    assert R[contract.LIFECYCLE_TYPE].read(client, gone, {}) is None  # minioReadILMPolicy
    assert R[contract.ENCRYPTION_TYPE].read(client, gone, {}) is None
    for type_ in (
        contract.VERSIONING_TYPE,
        contract.IAM_POLICY_TYPE,
        contract.SERVICE_ACCOUNT_TYPE,
    ):
        with pytest.raises(Exception):  # noqa: B017 - the provider's own error, any kind
            R[type_].read(client, gone, {})
    user = f"reader-{uuid.uuid4().hex[:8]}"
    R[contract.IAM_USER_TYPE].create(client, {"name": user}, preview=False)
    found = R[contract.ATTACHMENT_TYPE].read(client, f"{user}/no-such-policy", {})
    assert found is None  # the policy is not attached: "removing from state"


def test_the_admin_statements_of_a_policy_read_back_whole(client: minio.MinioClient) -> None:
    name = f"observer-{uuid.uuid4().hex[:8]}"
    admin = {"Effect": "Allow", "Action": ["admin:GetUser"]}
    document = {**POLICY, "Statement": [*POLICY["Statement"], admin]}
    _, outputs = R[contract.IAM_POLICY_TYPE].create(
        client, {"name": name, "policy": json.dumps(document)}, preview=False
    )
    assert (
        R[contract.IAM_POLICY_TYPE]
        .diff(outputs, {"name": name, "policy": json.dumps(document)}, ())
        .changed
        == ()
    )


def test_configure_takes_what_the_program_leaves_unset_from_minio_variables(
    embedded_s3: EmbeddedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINIO_ENDPOINT", embedded_s3.endpoint)
    monkeypatch.setenv("MINIO_ENABLE_HTTPS", "true")
    monkeypatch.setenv("MINIO_CACERT_FILE", str(embedded_s3.ca_bundle))
    monkeypatch.setenv(ADMIN_USER_ENV, embedded_s3.admin.access_key)
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, embedded_s3.admin.secret_key)
    configured = minio.configure({})
    assert configured.endpoint_url == embedded_s3.endpoint_url
    configured.s3.list_buckets()
    _, failures = minio.check_config({})
    assert failures == []
    monkeypatch.delenv("MINIO_ENDPOINT")
    assert [f.property for f in minio.check_config({})[1]] == ["minioServer"]


def test_random_password_as_terraform_provider_random() -> None:
    password = RandomPassword()
    inputs, failures = password.check({}, {"length": 40, "special": False})
    assert failures == [] and inputs["upper"] is True and inputs["minLower"] == 0
    assert [f.property for f in password.check({}, {"length": 0})[1]] == ["length"]
    assert [f.property for f in password.check({}, {"length": 2, "minUpper": 3})[1]] == ["length"]
    id_, outputs = password.create(None, inputs, preview=False)
    assert id_ == "none" and len(outputs["result"]) == 40 and outputs["result"].isalnum()
    assert password.diff(outputs, {**inputs, "length": 41}, ()).replaces == ("length",)
    assert password.sensitive == {"result", "bcryptHash"}


def test_secrets_stay_marked_on_the_wire() -> None:
    struct = to_struct({"name": "u", "secret": "s3cr3t"}, {"secret"})
    wire: Any = json.loads(json.dumps(dict(struct)["secret"], default=dict))
    assert wire[SIGNATURE_KEY] == SECRET_SIGNATURE
    plain, secret = from_struct(struct)
    assert plain == {"name": "u", "secret": "s3cr3t"} and secret == {"secret"}
