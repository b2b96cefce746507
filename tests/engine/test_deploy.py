"""``pulumi up`` by the real engine on an empty endpoint, and what the stack then is.

One deployment of ``dev`` per module; the tests read it in order: what was made, the keys it
handed out at work, no perpetual diff, a refresh that finds nothing changed, no plaintext secret
in the state, and an object deleted behind the stack's back seen as gone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.workspace import (
    EngineWorkspace,
    block_settings,
    embedded_stack_config,
    parse_dotenv,
)
from devtools.providers.properties import SECRET_SIGNATURE, SIGNATURE_KEY
from infra import render_format
from infra.config import COMPANY_RETENTION_KEY, RETENTION_KEYS, full_key
from infra.program import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USER_ENV,
    OMNIPLAY_MINIO_PREFIX,
    SERVICE_TOKEN_ENV,
)
from infra.render import render_stack
from tests.engine.stacks import changes, render_resources
from voice_recordings import KIND_TAG_KEY, TRANSCRIPT, VOICE, MinioUploader
from voice_recordings.settings import Env

STACK = "dev"
AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8


@pytest.fixture(scope="module")
def deployed(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> EngineWorkspace:
    """``dev`` pointed at the endpoint, after ``pulumi up``."""
    workspace.init_stack(STACK, embedded_stack_config(endpoint))
    workspace.run("up", "-s", STACK, "--yes", "--skip-preview")
    return workspace


@pytest.fixture(scope="module")
def outputs(deployed: EngineWorkspace) -> dict[str, Any]:
    """The stack's outputs, secrets shown."""
    return deployed.outputs(STACK)


def test_up_makes_every_resource_of_the_render(
    deployed: EngineWorkspace, endpoint: EmbeddedS3
) -> None:
    state = deployed.export(STACK)
    assert state["deployment"]["manifest"]["version"] == deployed.run("version").stdout.strip()
    made = sorted(
        (r["type"], r["urn"].rsplit("::", 1)[-1])
        for r in state["deployment"]["resources"]
        if r["type"] not in (render_format.STACK, render_format.RANDOM_PROVIDER)
    )
    assert made == render_resources(render_stack(STACK, embedded_stack_config(endpoint)))
    s3 = endpoint.s3()
    assert s3.get_bucket_versioning(Bucket="voice-recordings")["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket="voice-recordings")["Rules"]
    assert {r["ID"] for r in rules} == {
        "expire-voice",
        "expire-transcript",
        "expire-delete-markers",
    }


def test_the_voice_ai_block_stores_a_recording_omniplay_reads_and_cannot_delete(
    outputs: dict[str, Any], endpoint: EmbeddedS3
) -> None:
    voice_ai = MinioUploader(block_settings(outputs["voice_ai_env"], endpoint.ca_bundle))
    stored = voice_ai.upload_audio(
        AUDIO, call_uuid="engine-call-1", company_id=7, when=dt.datetime.now(dt.UTC)
    )
    assert not stored.spooled
    reader_settings = block_settings(
        outputs["omniplay_env"], endpoint.ca_bundle, OMNIPLAY_MINIO_PREFIX
    )
    reader = MinioUploader(reader_settings)
    played = reader.client.get_object(Bucket=reader_settings.bucket, Key=stored.key)
    assert played["Body"].read() == AUDIO
    tags = endpoint.s3().get_object_tagging(Bucket=reader_settings.bucket, Key=stored.key)
    assert {"Key": KIND_TAG_KEY, "Value": "voice"} in tags["TagSet"]
    with pytest.raises(ClientError) as denied:
        voice_ai.client.delete_object(Bucket=reader_settings.bucket, Key=stored.key)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    voice_ai.close()
    reader.close()


def test_a_second_preview_and_a_refresh_find_no_changes(deployed: EngineWorkspace) -> None:
    preview = deployed.run("preview", "-s", STACK, "--json").json()
    assert changes(preview) == [], "a perpetual diff"
    deployed.run("preview", "-s", STACK, "--expect-no-changes")
    deployed.run("refresh", "-s", STACK, "--yes", "--skip-preview", "--expect-no-changes")
    after = deployed.run("preview", "-s", STACK, "--json").json()
    assert changes(after) == [], "a diff after refresh: Read reads back what the program never sent"


def _secret_fields(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        if value.get(SIGNATURE_KEY) == SECRET_SIGNATURE:
            return [(path, value)]
        return [f for k, v in value.items() for f in _secret_fields(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _secret_fields(v, f"{path}[{i}]")]
    return []


def test_the_state_holds_no_plaintext_secret(
    deployed: EngineWorkspace, outputs: dict[str, Any]
) -> None:
    exported = deployed.export(STACK)
    text = json.dumps(exported)
    # Secret keys, the token and the .env blocks holding them. An access key is an id (a
    # service account's id in the state, as with the real provider): not a secret.
    secret_values = [
        str(value) for name, value in outputs.items() if name.endswith(("_secret_key", "_env"))
    ]
    secret_values += [
        value
        for name, value in parse_dotenv(outputs["voice_ai_env"]).items()
        if name in (Env.SECRET_KEY, SERVICE_TOKEN_ENV)
    ]
    leaked = [v for v in secret_values if v and v in text]
    assert leaked == [], "a secret in plain text in the state"
    fields = dict(_secret_fields(exported["deployment"]["resources"]))
    assert fields, "no secret at all in the state: the secrets were not kept secret"
    assert all("ciphertext" in v and "plaintext" not in v for v in fields.values())
    by_type: dict[str, set[str]] = {}
    for resource in exported["deployment"]["resources"]:
        found = {p.rsplit(".", 1)[-1] for p, _ in _secret_fields(resource.get("outputs", {}))}
        by_type.setdefault(resource["type"], set()).update(found)
    assert {"secretKey"} <= by_type[render_format.SERVICE_ACCOUNT]
    assert {"secret"} <= by_type[render_format.IAM_USER]
    assert {"result", "bcryptHash"} <= by_type[render_format.RANDOM_PASSWORD]


def test_an_object_deleted_behind_the_stack_is_seen_as_gone_and_made_again(
    deployed: EngineWorkspace, endpoint: EmbeddedS3
) -> None:
    iam = endpoint.iam()
    arn = next(
        p["PolicyArn"]
        for p in iam.list_attached_user_policies(UserName="omniplay-reader")["AttachedPolicies"]
    )
    iam.detach_user_policy(UserName="omniplay-reader", PolicyArn=arn)
    refreshed = deployed.run(
        "refresh", "-s", STACK, "--yes", "--skip-preview", "--expect-no-changes", check=False
    )
    assert refreshed.returncode != 0
    assert "reader-policy-attachment" in refreshed.output
    plan = changes(deployed.run("preview", "-s", STACK, "--json").json())
    assert [step.split(":")[0] for step in plan] == ["create reader-policy-attachment"]
    deployed.run("up", "-s", STACK, "--yes", "--skip-preview")
    attached = iam.list_attached_user_policies(UserName="omniplay-reader")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]


def test_a_refresh_by_keys_that_cannot_read_the_bucket_sees_it_gone(
    deployed: EngineWorkspace, outputs: dict[str, Any], endpoint: EmbeddedS3
) -> None:
    # minioReadBucket takes any error of BucketExists (a 403 here) for "not found", and the
    # engine would drop the protected bucket from the state: a job must never write a refresh
    # with keys that cannot HEAD the bucket (docs/operating.md, "What the provider does").
    reader = block_settings(outputs["omniplay_env"], endpoint.ca_bundle, OMNIPLAY_MINIO_PREFIX)
    keys = {
        ADMIN_USER_ENV: reader.access_key,
        ADMIN_PASSWORD_ENV: reader.secret_key,
        "PULUMI_SKIP_CONFIRMATIONS": "false",  # it would mean --yes, refused with --preview-only
    }
    seen = deployed.run("refresh", "-s", STACK, "--preview-only", "--json", env=keys, check=False)
    assert seen.returncode != 0  # the IAM reads are refused: errors, not "gone"
    deleted = sorted(
        step["urn"].rsplit("::", 1)[-1] for step in seen.json()["steps"] if step["op"] == "delete"
    )
    assert "recordings-bucket" in deleted, seen.output
    # --preview-only wrote nothing: the state still holds the bucket.
    state = deployed.export(STACK)["deployment"]["resources"]
    assert any(r["urn"].endswith("::recordings-bucket") for r in state)


def _server_expiry(
    rules: Sequence[Mapping[str, Any]], key: str, tags: dict[str, str]
) -> int | None:
    """The days after which MinIO expires an object (``FilterRules``: the key starts with the
    rule's prefix and the object holds every tag of it; ``Eval``: the earliest expiry wins)."""
    found = []
    for rule in rules:
        where = rule.get("Filter", {})
        both = where.get("And", {})
        prefix = both.get("Prefix", where.get("Prefix", ""))
        wanted = both.get("Tags") or ([where["Tag"]] if "Tag" in where else [])
        days = rule.get("Expiration", {}).get("Days")
        if (
            rule["Status"] == "Enabled"
            and days is not None
            and key.startswith(prefix)
            and all(tags.get(t["Key"]) == t["Value"] for t in wanted)
        ):
            found.append(days)
    return min(found, default=None)


def test_a_company_s_own_retention_is_deployed_and_spares_its_neighbours(
    deployed: EngineWorkspace, outputs: dict[str, Any], endpoint: EmbeddedS3
) -> None:
    # The documented command (docs/operating.md, "Retention per company"), then `pulumi up`.
    key = f'{full_key(COMPANY_RETENTION_KEY)}["42"].voice'
    deployed.run("config", "set", "-s", STACK, "--path", key, "1825")
    plan = changes(deployed.run("preview", "-s", STACK, "--json").json())
    assert [step.split(":")[0] for step in plan] == ["update recordings-lifecycle"]
    deployed.run("up", "-s", STACK, "--yes", "--skip-preview")
    deployed.run("preview", "-s", STACK, "--expect-no-changes")
    voice_ai = MinioUploader(block_settings(outputs["voice_ai_env"], endpoint.ca_bundle))
    s3 = endpoint.s3()
    bucket = voice_ai.settings.bucket
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    config = render_stack(STACK, embedded_stack_config(endpoint))["config"]
    default = int(config[full_key(RETENTION_KEYS[VOICE])])
    transcripts = int(config[full_key(RETENTION_KEYS[TRANSCRIPT])])
    assert default != 1825
    # Company 42 and the ids that share its digits, each stored by the Voice AI's own keys.
    expected = {42: 1825, 4: default, 420: default, 43: default, 1: default}
    for company, voice_days in expected.items():
        stored = voice_ai.upload_audio(AUDIO, call_uuid=f"own-{company}", company_id=company)
        text = voice_ai.upload_transcript("hello", call_uuid=f"own-{company}", company_id=company)
        for object_key, days in ((stored.key, voice_days), (text.key, transcripts)):
            tagging = s3.get_object_tagging(Bucket=bucket, Key=object_key)["TagSet"]
            tags = {t["Key"]: t["Value"] for t in tagging}
            assert _server_expiry(rules, object_key, tags) == days, object_key
    voice_ai.close()
