"""The workflows' own ``pulumi`` commands, run by the real engine with the identities each job gets.

Each job's command is read from its workflow (``run: .github/scripts/pulumi-job.sh <job> <pack>``)
and its ``env:`` mapped to this endpoint's identities and this workspace's state; the script runs
in the project as the job runs it, the guardrails' policy pack included (the workflows' own
argument, under our language host's RunPlugin). ``prod`` is deployed first by
deploy.yml's ``up`` job with the admin's keys; the rest runs with the observer's.

The observer's ``admin:GetUser``/``admin:GetPolicy``/``admin:ListServiceAccounts`` are what its
own policy grants it: the embedded endpoint reads them as the IAM calls the ``minio`` plugin
makes for them (devtools/endpoint/moto_compat.py), and nothing else.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.workspace import EngineWorkspace, PulumiRun, embedded_stack_config
from tests.engine.stacks import server_snapshot
from tests.workflows import GUARDRAIL_PACK, REPO, job_env, pipeline_command, workflow

STACK = "prod"
BUCKET = "voice-recordings"
WRONG_KEYS = {
    "MINIO_OBSERVER_ACCESS_KEY": "AKIAWRONGWRONGWRONG1",
    "MINIO_OBSERVER_SECRET_KEY": "x" * 40,
}
# A plan that would make the storage again: a create, replace or delete of a minio resource.
_RECREATE_RE = re.compile(r"^\s*(\+|\+-|-\+|-)\s+minio:", re.MULTILINE)


def run_job(
    workspace: EngineWorkspace,
    workflow_name: str,
    job_id: str,
    secrets: dict[str, str],
    stack: tuple[str, ...] = (),
) -> PulumiRun:
    """The job's call of the pipeline script, as its workflow writes it (``stack``: the
    ``--stack`` arguments of a run by hand on another stack), with its env."""
    job = workflow(workflow_name)["jobs"][job_id]
    command = pipeline_command(job)
    assert command is not None and command[2:] == [GUARDRAIL_PACK], command
    script, job_name, pack = command
    return workspace.run_job(
        ["bash", str(REPO / script), job_name, *stack, str(REPO / pack)],
        job_env(job, secrets),
        timeout=600,
    )


@pytest.fixture(scope="module")
def secrets(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> dict[str, str]:
    """GitHub's secrets for this endpoint and workspace, after deploy.yml's ``up`` made ``prod``."""
    state = {
        "PULUMI_ACCESS_TOKEN": "",
        "PULUMI_BACKEND_URL": workspace.state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": workspace.passphrase,
    }
    admin = {
        "MINIO_ADMIN_USER": endpoint.admin.access_key,
        "MINIO_ADMIN_PASSWORD": endpoint.admin.secret_key,
    }
    workspace.init_stack(STACK, embedded_stack_config(endpoint))
    up = run_job(workspace, "deploy.yml", "up", {**state, **admin})
    assert up.returncode == 0, up.output
    outputs = workspace.outputs(STACK)
    return {
        **state,
        **admin,
        "MINIO_OBSERVER_ACCESS_KEY": outputs["observer_access_key"],
        "MINIO_OBSERVER_SECRET_KEY": outputs["observer_secret_key"],
    }


def test_the_pull_request_preview_succeeds_with_the_observers_keys_and_changes_nothing(
    workspace: EngineWorkspace,
    endpoint: EmbeddedS3,
    secrets: dict[str, str],
    engine_dir: Path,
    tmp_path: Path,
) -> None:
    # A fresh checkout: the committed stack file, with production's passphrase salt in it.
    checkout = EngineWorkspace(engine_dir, tmp_path / "checkout")
    stack_file = checkout.project / f"Pulumi.{STACK}.yaml"
    shutil.copyfile(workspace.project / stack_file.name, stack_file)
    assert "encryptionsalt" in stack_file.read_text()
    committed = stack_file.read_bytes()
    before = server_snapshot(endpoint)
    observer_only = {k: v for k, v in secrets.items() if k.startswith("MINIO_OBSERVER_")}
    preview = run_job(checkout, "preview.yml", "preview", observer_only)
    assert preview.returncode == 0, preview.output
    assert "+ minio:index/s3Bucket:S3Bucket: (create)" in preview.output
    assert server_snapshot(endpoint) == before
    assert stack_file.read_bytes() == committed, "the script must put the stack file back"
    assert list(checkout.state.iterdir()) == [], "the job has no state but its throwaway one"


def test_the_pull_request_preview_runs_for_another_stack_named_by_hand(
    secrets: dict[str, str], engine_dir: Path, tmp_path: Path
) -> None:
    # A fresh checkout, its committed dev stack file: the preview job, run by hand for dev.
    checkout = EngineWorkspace(engine_dir, tmp_path / "checkout")
    stack_file = checkout.project / "Pulumi.dev.yaml"
    committed = stack_file.read_bytes()
    observer_only = {k: v for k, v in secrets.items() if k.startswith("MINIO_OBSERVER_")}
    preview = run_job(checkout, "preview.yml", "preview", observer_only, ("--stack", "dev"))
    assert preview.returncode == 0, preview.output
    assert "Previewing update (dev)" in preview.output, preview.output
    assert "+ minio:index/s3Bucket:S3Bucket: (create)" in preview.output
    assert stack_file.read_bytes() == committed
    assert list(checkout.state.iterdir()) == []


def test_drift_on_an_untouched_server_finds_nothing(
    workspace: EngineWorkspace, secrets: dict[str, str]
) -> None:
    # The admin deployed, the observer reads: the provider's credentials are not its inputs
    # (they come from each job's MINIO_USER/MINIO_PASSWORD), so other keys are not a change.
    drift = run_job(workspace, "drift.yml", "drift", secrets)
    assert drift.returncode == 0, drift.output
    assert "pulumi:providers:minio: (update)" not in drift.output


def test_drift_with_refused_reads_fails_as_an_error_and_writes_nothing(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, secrets: dict[str, str]
) -> None:
    before = server_snapshot(endpoint)
    state_before = workspace.export(STACK)["deployment"]["resources"]
    drift = run_job(workspace, "drift.yml", "drift", {**secrets, **WRONG_KEYS})
    assert drift.returncode != 0
    # The bridge names the failed Read by URN; minio-go gives the server's message.
    assert "error: Preview failed: refreshing urn:pulumi:prod::" in drift.output
    # Whichever Read the engine reports first names the refusal: an S3 Read gives minio-go's
    # message of the server, an identity Read (the admin API's stand-in, aws-sdk-go-v2 IAM) the
    # 403 the server answered. The reads run in parallel, so either may come first.
    assert (
        "Access Key Id you provided does not exist" in drift.output
        or "StatusCode: 403" in drift.output
    ), drift.output
    # The provider reads the bucket as gone on any error of its HEAD (minioReadBucket; see
    # docs/operating.md, "What the provider does"), so the refresh's plan shows it deleted; the
    # job is --preview-only: nothing is written, on the server or in the state.
    planned = [m[0] for m in _RECREATE_RE.finditer(drift.output)]
    assert all(p.strip().startswith("-") for p in planned), drift.output
    assert server_snapshot(endpoint) == before
    assert workspace.export(STACK)["deployment"]["resources"] == state_before


def test_a_lifecycle_changed_by_hand_is_drift_named_and_left_as_it_is(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, secrets: dict[str, str]
) -> None:
    s3 = endpoint.s3()
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-voice",
                    "Status": "Enabled",
                    "Filter": {"Tag": {"Key": "kind", "Value": "voice"}},
                    "Expiration": {"Days": 1},
                }
            ]
        },
    )
    before = server_snapshot(endpoint)
    drift = run_job(workspace, "drift.yml", "drift", secrets)
    assert drift.returncode != 0
    assert "~ minio:index/ilmPolicy:IlmPolicy: (update)" in drift.output
    assert "IlmPolicy::recordings-lifecycle]" in drift.output
    assert not _RECREATE_RE.search(drift.output), drift.output
    assert server_snapshot(endpoint) == before
    # deploy.yml's up (with --refresh: without it the state never saw the change) puts the
    # program's lifecycle back.
    up = run_job(workspace, "deploy.yml", "up", secrets)
    assert up.returncode == 0, up.output
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert {r["ID"] for r in rules} == {
        "expire-voice",
        "expire-transcript",
        "expire-delete-markers",
    }


def test_a_policy_changed_by_hand_is_drift_named_and_left_as_it_is(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, secrets: dict[str, str]
) -> None:
    iam = endpoint.iam()
    arn = next(
        p["Arn"]
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == "voice-ai-policy"
    )
    wider = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]}
        ],
    }
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wider), SetAsDefault=True)
    before = server_snapshot(endpoint)
    drift = run_job(workspace, "drift.yml", "drift", secrets)
    assert drift.returncode != 0
    assert "IamPolicy::uploader-policy]" in drift.output, drift.output
    assert not _RECREATE_RE.search(drift.output), drift.output
    assert server_snapshot(endpoint) == before


def test_a_service_account_disabled_by_hand_is_drift_that_up_repairs(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, secrets: dict[str, str]
) -> None:
    # The account's Read takes its status from the server (resource_minio_service_account.go,
    # minioReadServiceAccount: disable_user = status "off"); on the embedded endpoint a
    # disabled account is an inactive access key (tools/provider/minio/admin.go).
    access_key = workspace.outputs(STACK)["voice_ai_access_key"]
    iam = endpoint.iam()

    def status() -> str:
        keys = iam.list_access_keys(UserName="voice-ai-service")["AccessKeyMetadata"]
        return next(str(k["Status"]) for k in keys if k["AccessKeyId"] == access_key)

    iam.update_access_key(UserName="voice-ai-service", AccessKeyId=access_key, Status="Inactive")
    drift = run_job(workspace, "drift.yml", "drift", secrets)
    assert drift.returncode != 0
    assert "IamServiceAccount::voice-ai-realtime]" in drift.output, drift.output
    assert "disableUser" in drift.output, drift.output
    assert not _RECREATE_RE.search(drift.output), drift.output
    assert status() == "Inactive", "the drift job changed nothing"
    up = run_job(workspace, "deploy.yml", "up", secrets)
    assert up.returncode == 0, up.output
    assert status() == "Active"
    assert run_job(workspace, "drift.yml", "drift", secrets).returncode == 0
