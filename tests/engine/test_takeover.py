"""The takeover of the hand-made storage, as docs/operating.md's runbook says, by the real engine.

The runbook's own commands run here, in its order (:data:`RUNBOOK`): each ``pulumi`` line as
written, in a workspace whose ``prod`` stack points at an endpoint seeded with the
specification's hand-made state (:func:`devtools.endpoint.handmade.build_handmade`); each
``python -m infra.takeover`` line with the endpoint's address added; each ``mc`` line and
``docker exec ... voice-recordings check`` by what it does (the endpoint has no admin API; the
check is the package's CLI with the new block). A runbook line this test does not know fails
it, so the runbook and the test cannot drift apart. Between the steps: the engine's plan is the
one the runbook promises, the hand-made user's password still logs in, the policy document is
ours, the old recordings are untouched, and every recording stored before, during and after each
step plays from a link the Voice AI hands out.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from devtools.endpoint.handmade import HandMadeState, build_handmade, stack_config_for
from devtools.engine.workspace import (
    EngineWorkspace,
    PulumiFailed,
    PulumiRun,
    admin_env,
    block_settings,
    embedded_stack_config,
    parse_dotenv,
)
from infra import takeover
from infra.config import full_key
from infra.policies import UPLOADER_POLICY, policy_json
from tests.docs import OPERATING, bash_commands, section
from tests.engine.policy_packs import GUARDRAILS
from tests.engine.stacks import changes
from voice_recordings import KIND_TAG_KEY, MinioUploader, StorageSettings, cli, parse_key
from voice_recordings.settings import Env

STACK = "prod"
SECTION = section(OPERATING, "Taking over the hand-made storage")
RUNBOOK = bash_commands(SECTION)
IMPORTED = {
    "recordings-bucket",
    "uploader-user",
    "uploader-policy",
    "uploader-policy-attachment",
    "voice-ai-realtime",
}

# The runbook's step 3, as the engine's preview shows it: each imported or updated resource and
# its detailed diff. Five imports with no difference, one update: only the policy's document.
RUNBOOK_PLAN: dict[str, dict[str, str]] = {
    **{name: {} for name in IMPORTED},
    "uploader-policy": {"policy": "update"},
}


class Takeover:
    """The runbook's state as it runs: the workspace, the server, the Voice AI's current keys,
    and every recording it stored (key -> bytes)."""

    def __init__(self, workspace: EngineWorkspace, endpoint: EmbeddedS3, handmade: HandMadeState):
        self.workspace = workspace
        self.endpoint = endpoint
        self.handmade = handmade
        self.voice_ai_keys = handmade.console_keys  # what the service runs with until step 6
        self.stored: dict[str, bytes] = {o.key: o.body for o in handmade.conforming}
        self.block = ""  # `pulumi stack output voice_ai_env --show-secrets > voice-ai.env`
        self.console_deleted = False

    def settings(self, keys: Credentials) -> StorageSettings:
        """The Voice AI's settings with ``keys``."""
        return self.endpoint.settings(keys, bucket=self.handmade.bucket, max_attempts=1)

    def store(self, label: str) -> None:
        """The Voice AI stores a recording, as at the end of a call."""
        uploader = MinioUploader(self.settings(self.voice_ai_keys))
        body = b"ID3\x04" + label.encode()
        stored = uploader.upload_audio(body, call_uuid=label, company_id=9)
        uploader.close()
        assert not stored.spooled, f"{label}: the recording was not stored"
        self.stored[stored.key] = body

    def all_play(self, step: str) -> None:
        """Every recording plays from a link the Voice AI signs with its current keys."""
        uploader = MinioUploader(self.settings(self.voice_ai_keys))
        for key, body in self.stored.items():
            link = uploader.presigned_url(key, expires_in=600)
            played = requests.get(link, timeout=10, verify=self.endpoint.ca_bundle)
            assert (played.status_code, played.content) == (200, body), f"{step}: {key}"
        uploader.close()

    def pulumi(self, line: str) -> PulumiRun:
        """A runbook ``pulumi`` line, as written, on the prod stack."""
        args = shlex.split(
            line.replace("<console-access-key>", self.handmade.console_keys.access_key)
        )[1:]
        if args[:3] == ["stack", "output", "voice_ai_env"]:
            # `... > voice-ai.env`: the block goes to the service.
            result = self.workspace.run(*[a for a in args if a not in (">", "voice-ai.env")])
            self.block = result.stdout
            return result
        return self.workspace.run(*args)

    def takeover_tool(self, line: str) -> str:
        """A runbook ``python -m infra.takeover`` line, with the endpoint's address added."""
        args = shlex.split(
            line.replace("<console-access-key>", self.handmade.console_keys.access_key)
        )
        endpoint = [f"--config={k}={v}" for k, v in stack_config_for(self.endpoint).items()]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = takeover.cli([*args[3:], *endpoint, "--json"], admin_env(self.endpoint))
        assert code == takeover.EXIT_SAFE, out.getvalue()
        return out.getvalue()


@pytest.fixture(scope="module")
def run(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> Iterator[Takeover]:
    """The hand-made server and a ``prod`` stack pointed at it (before step 1)."""
    handmade = build_handmade(endpoint)
    workspace.init_stack(STACK, embedded_stack_config(endpoint))
    yield Takeover(workspace, endpoint, handmade)


def _during(action: Callable[[], Any], store: Callable[[], None]) -> None:
    """``store`` while ``action`` (a ``pulumi up``) runs."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    store()
    thread.join(timeout=300)
    if failure:
        raise failure[0]


def _plan(run: Takeover) -> dict[str, set[str]]:
    return _plan_of(run.workspace)


def _plan_of(workspace: EngineWorkspace) -> dict[str, set[str]]:
    preview = workspace.run("preview", "--json").json()
    ops: dict[str, set[str]] = {}
    for step in preview["steps"]:
        ops.setdefault(step["op"], set()).add(step["urn"].rsplit("::", 1)[-1])
    return ops


def test_the_runbook_takes_over_the_hand_made_storage(run: Takeover) -> None:
    run.store("before-the-takeover")
    run.all_play("before")
    known = list(RUNBOOK)
    while known:
        line = known.pop(0)
        if line.startswith("export MINIO_USER="):
            continue  # the workspace holds the admin's credentials (admin_env)
        if line.startswith("mc admin user svcacct ls"):
            listed = run.endpoint.iam().list_access_keys(UserName=run.handmade.user)
            access_keys = {k["AccessKeyId"] for k in listed["AccessKeyMetadata"]}
            assert run.handmade.console_keys.access_key in access_keys
            continue
        if line.startswith("python -m infra.takeover survey"):
            survey = json.loads(run.takeover_tool(line))
            assert survey["objects"]["untagged"] == len(run.handmade.conforming)
            continue
        if line == "pulumi preview --diff":
            _step_3_the_plan_is_the_promised_one(run)
            run.pulumi(line)
            continue
        if line == "pulumi up":
            # **4. Apply**, with a recording stored meanwhile.
            _during(partial(run.pulumi, line), lambda: run.store("during-the-import"))
            _step_4_kept_what_was_there(run)
            run.all_play("after step 4")
            continue
        if line.startswith("python -m infra.takeover tag-existing"):
            report = json.loads(run.takeover_tool(line))
            if "--apply" in line:
                assert report["tagged"] == len(run.handmade.conforming)
                for item in run.handmade.conforming:
                    tags = run.endpoint.s3().get_object_tagging(
                        Bucket=run.handmade.bucket, Key=item.key
                    )
                    assert {t["Key"]: t["Value"] for t in tags["TagSet"]} == {
                        KIND_TAG_KEY: parse_key(item.key).kind
                    }
            continue
        if line.startswith("pulumi up --replace"):
            _during(partial(run.pulumi, line), lambda: run.store("during-the-handover"))
            # The console's account is retained on delete: the service keeps working meanwhile.
            assert run.handmade.console_keys.access_key in {
                k["AccessKeyId"]
                for k in run.endpoint.iam().list_access_keys(UserName=run.handmade.user)[
                    "AccessKeyMetadata"
                ]
            }
            run.all_play("after the replace, on the console's keys")
            continue
        if line.startswith("pulumi"):
            run.pulumi(line)
            if line.startswith("pulumi stack output voice_ai_env"):
                # Give the Voice AI the new block and restart it.
                new = block_settings(run.block, run.endpoint.ca_bundle)
                assert new.access_key != run.handmade.console_keys.access_key
                run.voice_ai_keys = Credentials(new.access_key, new.secret_key)
                run.store("after-the-handover")
            continue
        if line == "docker exec voice-ai-service voice-recordings check":
            env = {**dict(_block_env(run)), Env.SPOOL_DIR: "off", Env.MAX_ATTEMPTS: "1"}
            out = io.StringIO()
            assert cli.main(["check"], env, out) == 0, out.getvalue()
            continue
        if line.startswith("mc admin user svcacct rm"):
            run.endpoint.iam().delete_access_key(
                UserName=run.handmade.user, AccessKeyId=run.handmade.console_keys.access_key
            )
            run.console_deleted = True
            run.all_play("after the console's account is gone, on the new keys")
            continue
        pytest.fail(f"a runbook command this test does not run: {line!r}")
    assert run.console_deleted
    _step_8_adoption_off(run)


def _block_env(run: Takeover) -> dict[str, str]:
    return {**parse_dotenv(run.block), Env.CA_BUNDLE: str(run.endpoint.ca_bundle)}


def _changed(preview: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each imported or updated resource -> its detailed diff (input -> kind of change)."""
    return {
        step["urn"].rsplit("::", 1)[-1]: {
            key: diff["kind"] for key, diff in (step.get("detailedDiff") or {}).items()
        }
        for step in preview["steps"]
        if step["op"] in ("import", "update")
    }


def _step_3_the_plan_is_the_promised_one(run: Takeover) -> None:
    preview = run.workspace.run("preview", "--json").json()
    ops: dict[str, set[str]] = {}
    for step in preview["steps"]:
        ops.setdefault(step["op"], set()).add(step["urn"].rsplit("::", 1)[-1])
    assert ops["import"] == IMPORTED, "every existing object is imported"
    assert ops.get("update", set()) == {"uploader-policy"}, "the one update after import"
    assert not ops.keys() & {"replace", "create-replacement", "delete", "delete-replaced"}
    assert not ops.get("create", set()) & IMPORTED, "no create of an existing object"
    # The runbook's words, exactly: what the provider's import reads leaves one difference, the
    # policy's document; the bucket (acl and object lock read), the user (its secret ignored;
    # forceDestroy, disableUser and updateSecret unset, so no difference) and the account none.
    assert _changed(preview) == RUNBOOK_PLAN
    ignored = {
        step["urn"].rsplit("::", 1)[-1]: sorted(step["newState"].get("ignoreChanges") or [])
        for step in preview["steps"]
        if step["op"] == "import"
    }
    assert ignored == {
        "recordings-bucket": [],
        "uploader-user": ["secret"],
        "uploader-policy": [],
        "uploader-policy-attachment": [],
        "voice-ai-realtime": ["policy", "secretKey"],  # as on every account
    }, "only what the plan needs is ignored"


def _step_4_kept_what_was_there(run: Takeover) -> None:
    handmade, endpoint = run.handmade, run.endpoint
    # The hand-chosen password still logs in (a MinIO user signs with its name and password).
    listed = endpoint.s3(handmade.user_keys).list_objects_v2(Bucket=handmade.bucket)
    assert listed["KeyCount"] >= len(handmade.objects)
    assert endpoint.user_secret(handmade.user) == handmade.user_keys.secret_key
    # The policy document is ours.
    arn = next(
        p["Arn"]
        for p in endpoint.iam().list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == handmade.policy
    )
    version = endpoint.iam().get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = endpoint.iam().get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    assert document == json.loads(policy_json(UPLOADER_POLICY, handmade.bucket))
    # Every old object byte-identical, with its metadata and content type.
    for item in handmade.objects:
        got = endpoint.s3().get_object(Bucket=handmade.bucket, Key=item.key)
        assert (got["Body"].read(), got["Metadata"], got["ContentType"]) == (
            item.body,
            item.metadata,
            item.content_type,
        )
    # One preview: nothing to change, as the engine itself judges it (exit 0) and step by step.
    assert changes(run.workspace.run("preview", "--expect-no-changes", "--json").json()) == []


def _step_8_adoption_off(run: Takeover) -> None:
    # **8. Turn adoption off** (inline in the runbook): what the next `pulumi up` then does.
    run.workspace.run("config", "rm", full_key("adoptExisting"))
    ops = _plan(run)
    assert ops.get("update", set()) == {"uploader-user"}, "only the user's password changes"
    assert not ops.keys() & {"import", "replace", "create", "delete", "create-replacement"}
    run.workspace.run("up", "--yes", "--skip-preview")
    assert run.endpoint.user_secret(run.handmade.user) != run.handmade.user_keys.secret_key
    run.all_play("after adoption is off")


@pytest.mark.parametrize("differs", ["missing user", "policy of another name"])
def test_a_server_unlike_the_runbook_fails_the_preview_naming_the_object_and_changes_nothing(
    engine_dir: Path, endpoint: EmbeddedS3, tmp_path: Path, differs: str
) -> None:
    endpoint.reset()
    handmade = build_handmade(endpoint, recordings=2)
    iam = endpoint.iam()
    if differs == "missing user":
        named = handmade.user
        for key in iam.list_access_keys(UserName=named)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=named, AccessKeyId=key["AccessKeyId"])
        for attached in iam.list_attached_user_policies(UserName=named)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=named, PolicyArn=attached["PolicyArn"])
        iam.delete_login_profile(UserName=named)
        iam.delete_user(UserName=named)
    else:
        named = handmade.policy
        arn = next(
            p["Arn"]
            for p in iam.list_policies(Scope="Local")["Policies"]
            if p["PolicyName"] == named
        )
        iam.detach_user_policy(UserName=handmade.user, PolicyArn=arn)
        iam.delete_policy(PolicyArn=arn)
        other = iam.create_policy(
            PolicyName="voice-ai-policy-old",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                }
            ),
        )
        iam.attach_user_policy(UserName=handmade.user, PolicyArn=other["Policy"]["Arn"])
    before = _server(endpoint)
    workspace = EngineWorkspace(engine_dir, tmp_path, env=admin_env(endpoint))
    workspace.init_stack(
        STACK,
        {
            **embedded_stack_config(endpoint),
            full_key("adoptExisting"): "true",
            full_key("adoptServiceAccount"): handmade.console_keys.access_key,
        },
    )
    with pytest.raises(PulumiFailed) as failed:
        workspace.run("preview")
    assert named in str(failed.value)
    assert _server(endpoint) == before, "the preview changed the server"


def _server(endpoint: EmbeddedS3) -> dict[str, Any]:
    """What a deploy could change: buckets and their settings, users, keys, policies."""
    s3, iam = endpoint.s3(), endpoint.iam()
    users = sorted(u["UserName"] for u in iam.list_users()["Users"])
    return {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "versioning": {
            b: s3.get_bucket_versioning(Bucket=b).get("Status") for b in ["voice-recordings"]
        },
        "users": users,
        "keys": {
            u: sorted(
                k["AccessKeyId"] for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]
            )
            for u in users
        },
        "policies": sorted(
            (p["PolicyName"], p["DefaultVersionId"])
            for p in iam.list_policies(Scope="Local")["Policies"]
        ),
    }


def _survey(endpoint: EmbeddedS3, config: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The survey's exit status and its ``--json`` document for the ``prod`` stack."""
    args = [f"--config={k}={v}" for k, v in {**stack_config_for(endpoint), **config}.items()]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = takeover.cli(["survey", "--stack", STACK, "--json", *args], admin_env(endpoint))
    return code, json.loads(out.getvalue())


def test_a_bucket_with_object_lock_is_adopted_only_as_the_stacks_decision(
    engine_dir: Path, endpoint: EmbeddedS3, tmp_path: Path
) -> None:
    endpoint.reset()
    handmade = build_handmade(endpoint, recordings=2, object_lock=True)
    adopt = {
        full_key("adoptExisting"): "true",
        full_key("adoptServiceAccount"): handmade.console_keys.access_key,
    }
    code, survey = _survey(endpoint, adopt)
    finding = next(f for f in survey["findings"] if f["id"] == "object-lock")
    assert code == takeover.EXIT_DECISION
    assert finding["severity"] == "decision" and handmade.bucket in finding["message"]
    # Why it is a decision: the import reads the lock, and a stack that does not declare it
    # plans `objectLocking: true -> false`, an update the provider never applies.
    workspace = EngineWorkspace(engine_dir, tmp_path, env=admin_env(endpoint))
    workspace.init_stack(STACK, {**embedded_stack_config(endpoint), **adopt})
    plan = _changed(workspace.run("preview", "--json").json())
    assert plan["recordings-bucket"].get("objectLocking") == "update", plan
    # A bad value fails the preview naming the key.
    ack = full_key("acknowledgeObjectLock")
    workspace.run("config", "set", ack, "yes")
    with pytest.raises(PulumiFailed, match=ack):
        workspace.run("preview")
    # Decided: the stack declares the lock, the survey is safe and the plan is the runbook's,
    # guardrails included.
    workspace.run("config", "set", ack, "true")
    code, survey = _survey(endpoint, {**adopt, ack: "true"})
    finding = next(f for f in survey["findings"] if f["id"] == "object-lock")
    assert (code, finding["severity"]) == (takeover.EXIT_SAFE, "warning"), survey["findings"]
    preview = workspace.run("preview", "--json", "--policy-pack", str(GUARDRAILS)).json()
    assert _changed(preview) == RUNBOOK_PLAN
