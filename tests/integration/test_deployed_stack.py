"""What ``pulumi up`` made on the server: exactly the render's identities, no secret printed, and
a stack that lost its state fails on the bucket before it touches an identity.

Each stack as deployed (``target``: see ``conftest.py``); reading identities needs the AWS IAM
API, so those cases skip on a real MinIO (``mc admin user info`` shows the same there).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from devtools.endpoint.clients import Credentials
from devtools.endpoint.embedded_s3 import ADMIN_USER
from devtools.engine.workspace import EngineWorkspace, admin_env
from infra.config import full_key
from infra.render_format import ATTACHMENT, IAM_POLICY, IAM_USER, SERVICE_ACCOUNT
from tests.deployments import Deployment
from tests.engine.stacks import server_snapshot
from tests.support import Target, deployed_target
from voice_recordings import MinioUploader

pytestmark = pytest.mark.integration

# The config keys naming the service accounts, in the order of _keys_of's keys.
ACCOUNT_KEYS = (
    "uploaderServiceAccount",
    "readerServiceAccount",
    "observerServiceAccount",
    "stewardServiceAccount",
)


def _of_type(target: Target, type_: str) -> list[Mapping[str, Any]]:
    return [r for r in target.render["resources"] if r["type"] == type_]


def _keys_of(target: Target) -> dict[str, Credentials | None]:
    """Service account name (the render's) -> the keys the stack outputs handed out for it."""
    handed = (target.uploader, target.reader_keys, target.observer_keys, target.steward_keys)
    config = target.render["config"]
    return {
        str(config[full_key(key)]): keys for key, keys in zip(ACCOUNT_KEYS, handed, strict=True)
    }


def test_the_identities_on_the_server_are_exactly_the_render_s(target: Target) -> None:
    iam = target.iam(target.admin)
    users = {u["UserName"] for u in iam.list_users()["Users"]} - {ADMIN_USER}
    assert users == {r["inputs"]["name"] for r in _of_type(target, IAM_USER)}

    policies = {p["PolicyName"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    for resource in _of_type(target, IAM_POLICY):
        inputs = resource["inputs"]
        held = iam.get_policy_version(
            PolicyArn=policies[str(inputs["name"])]["Arn"],
            VersionId=policies[str(inputs["name"])]["DefaultVersionId"],
        )["PolicyVersion"]["Document"]
        document = json.loads(held) if isinstance(held, str) else held
        wanted = inputs["policy"]
        # MinIO admin statements have no IAM counterpart: the endpoint keeps them aside, and
        # test_observer reads them from what the deploy wrote.
        s3_statements = [
            s for s in wanted["Statement"] if not all(a.startswith("admin:") for a in s["Action"])
        ]
        assert document == {**wanted, "Statement": s3_statements}

    for resource in _of_type(target, ATTACHMENT):
        inputs = resource["inputs"]
        attached = iam.list_attached_user_policies(UserName=str(inputs["userName"]))
        names = [p["PolicyName"] for p in attached["AttachedPolicies"]]
        assert names == [inputs["policyName"]]  # exactly one policy per user

    keys = _keys_of(target)
    for resource in _of_type(target, SERVICE_ACCOUNT):
        user = str(resource["inputs"]["targetUser"])
        handed = keys[str(resource["name"])]
        assert handed is not None, f"no output holds the keys of {resource['name']}"
        listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in listed] == [handed.access_key]  # one account per user
        assert iam.get_login_profile(UserName=user)["LoginProfile"]["UserName"] == user


def test_pulumi_up_printed_no_secret(target: Target) -> None:
    if target.deployment is None:
        pytest.skip("a real MinIO's deploy ran elsewhere: its output is not here to read")
    secrets = [
        str(value)
        for name, value in target.deployment.outputs.items()
        if name.endswith(("_secret_key", "_env"))
    ]
    assert secrets, "the stack handed out no secret at all"
    assert not [s for s in secrets if s in target.deployment.printed]


def test_a_stack_that_lost_its_state_fails_on_the_bucket_before_any_identity_changes(
    dev_deployment: Deployment, engine_dir: Path, tmp_path: Path
) -> None:
    # Every identity depends on the bucket (infra/), so a second `pulumi up` of the stack on a
    # server that already holds it (a lost or wrong backend) stops at the provider's
    # "bucket already exists" before it can overwrite a user's secret or a policy.
    endpoint = dev_deployment.endpoint
    before = server_snapshot(endpoint)
    workspace = EngineWorkspace(engine_dir, tmp_path, env=admin_env(endpoint))
    workspace.init_stack(dev_deployment.stack, dev_deployment.config)
    failed = workspace.run("up", "-s", dev_deployment.stack, "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert "recordings-bucket" in failed.output and "bucket already exists" in failed.output
    assert server_snapshot(endpoint) == before, "a failed up changed an identity or the bucket"
    # The keys the first deploy handed out still work.
    target = deployed_target(dev_deployment)
    uploader = MinioUploader(target.settings(target.uploader))
    assert not uploader.upload_audio(
        b"ID3 still mine", call_uuid="after-failed-up", company_id=5
    ).spooled
    uploader.close()
