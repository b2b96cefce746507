"""Rotating the Voice AI's key as the runbook says: ``pulumi up --replace`` of its service
account, by the real engine.

What it proves: the new key stores a recording and the old one is refused; a link signed with
the old key stops working (docs/operating.md: a presigned URL lives only while its key exists);
nothing else is replaced; the bucket keeps ``protect`` and ``retain_on_delete`` in the state.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.workspace import EngineWorkspace, block_settings, embedded_stack_config
from infra import render_format
from voice_recordings import MinioUploader

STACK = "dev"


def _uploader(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> MinioUploader:
    return MinioUploader(
        block_settings(workspace.outputs(STACK)["voice_ai_env"], endpoint.ca_bundle)
    )


def _account_urn(workspace: EngineWorkspace) -> str:
    """The URN of the service account whose key the Voice AI's block carries."""
    access_key = workspace.outputs(STACK)["voice_ai_access_key"]
    return next(
        str(r["urn"])
        for r in workspace.export(STACK)["deployment"]["resources"]
        if r["type"] == render_format.SERVICE_ACCOUNT and r.get("id") == access_key
    )


def _bucket_state(workspace: EngineWorkspace) -> dict[str, Any]:
    return next(
        r
        for r in workspace.export(STACK)["deployment"]["resources"]
        if r["type"] == render_format.BUCKET
    )


@pytest.fixture(scope="module")
def deployed(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> EngineWorkspace:
    """``dev`` deployed on the endpoint."""
    workspace.init_stack(STACK, embedded_stack_config(endpoint))
    workspace.run("up", "-s", STACK, "--yes", "--skip-preview")
    return workspace


def test_replacing_the_voice_ai_account_rotates_its_key_and_nothing_else(
    deployed: EngineWorkspace, endpoint: EmbeddedS3
) -> None:
    old = _uploader(deployed, endpoint)
    when = dt.datetime.now(dt.UTC)
    before = old.upload_audio(b"ID3\x04old", call_uuid="before-rotation", company_id=4, when=when)
    old_link = old.presigned_url(before.key, expires_in=3600)
    assert requests.get(old_link, timeout=10, verify=endpoint.ca_bundle).status_code == 200
    urn = _account_urn(deployed)
    bucket_before = _bucket_state(deployed)

    plan = deployed.run("preview", "-s", STACK, "--replace", urn, "--json").json()
    replaced = {
        step["urn"]
        for step in plan["steps"]
        if step["op"] in ("replace", "create-replacement", "delete-replaced")
    }
    assert replaced == {urn}, "only the Voice AI's service account is replaced"
    deployed.run("up", "-s", STACK, "--yes", "--skip-preview", "--replace", urn)

    new = _uploader(deployed, endpoint)
    assert new.settings.access_key != old.settings.access_key
    after = new.upload_audio(b"ID3\x04new", call_uuid="after-rotation", company_id=4, when=when)
    assert not after.spooled
    with pytest.raises(ClientError) as refused:
        old.client.put_object(Bucket=old.settings.bucket, Key=before.key, Body=b"x")
    assert refused.value.response["Error"]["Code"] in ("InvalidAccessKeyId", "AccessDenied")
    assert requests.get(old_link, timeout=10, verify=endpoint.ca_bundle).status_code == 403
    # The recording stored with the old key is still there, readable with the new one.
    kept = new.client.get_object(Bucket=new.settings.bucket, Key=before.key)["Body"].read()
    assert kept == b"ID3\x04old"
    bucket_after = _bucket_state(deployed)
    assert bucket_after["protect"] is True and bucket_after["retainOnDelete"] is True
    assert bucket_after["id"] == bucket_before["id"]
    assert deployed.run("preview", "-s", STACK, "--expect-no-changes", check=False).returncode == 0
    old.close()
    new.close()


# The order of a replacement's steps in a saved plan (`pulumi preview --save-plan`).
DELETE_FIRST = ["delete-replaced", "replace", "create-replacement"]


def test_replacing_a_named_user_deletes_it_before_making_it_again(
    deployed: EngineWorkspace, endpoint: EmbeddedS3, tmp_path: Path
) -> None:
    # The bridge asks for delete-before-create only when its Diff replaces (a rename); a
    # `--replace` of a user would otherwise create the same name again (Create overwrites it)
    # and then delete it: the program's delete_before_replace on named identities.
    urn = next(
        str(r["urn"])
        for r in deployed.export(STACK)["deployment"]["resources"]
        if r["type"] == render_format.IAM_USER and str(r["urn"]).endswith("::uploader-user")
    )
    saved = tmp_path / "plan.json"
    deployed.run("preview", "-s", STACK, "--replace", urn, "--save-plan", str(saved))
    steps = {
        name.rsplit("::", 1)[-1]: plan["steps"]
        for name, plan in json.loads(saved.read_text())["resourcePlans"].items()
        if plan.get("steps") != ["same"]
    }
    # Its attachment and service account name it (force-new): they go first and come back after.
    assert steps == dict.fromkeys(
        ["uploader-user", "uploader-policy-attachment", "voice-ai-realtime"], DELETE_FIRST
    )
    deployed.run("up", "-s", STACK, "--yes", "--skip-preview", "--replace", urn)
    user = deployed.outputs(STACK)
    iam = endpoint.iam()
    assert [
        k["AccessKeyId"]
        for k in iam.list_access_keys(UserName="voice-ai-service")["AccessKeyMetadata"]
    ] == [user["voice_ai_access_key"]], "the user exists, with the new account's key"
    uploader = _uploader(deployed, endpoint)
    assert not uploader.upload_audio(b"ID3\x04dbr", call_uuid="after-dbr", company_id=4).spooled
    uploader.close()
    assert deployed.run("preview", "-s", STACK, "--expect-no-changes", check=False).returncode == 0
