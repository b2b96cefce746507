"""``pulumi destroy`` by the real engine: recordings outlive the stack.

What the engine really does, recorded here: ``protect`` on the bucket makes ``destroy`` fail at
the bucket, but only after it has deleted every resource that depends on it (the identities,
their policies and keys), and the retained versioning and lifecycle leave the state without
touching the bucket. With the bucket unprotected, ``destroy`` succeeds and leaves the bucket,
its versioning, its lifecycle and its recordings on the server (``retain_on_delete``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.workspace import (
    EngineWorkspace,
    block_settings,
    embedded_stack_config,
)
from infra.config import USER_KEYS, full_key, parse_stack_config
from infra.stack_file import load_stack_config
from voice_recordings import MinioUploader

STACK = "dev"
BUCKET = "voice-recordings"
BUCKET_URN_SUFFIX = "minio:index/s3Bucket:S3Bucket::recordings-bucket"


@pytest.fixture(scope="module")
def recording(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> str:
    """``dev`` deployed, and one recording stored with the Voice AI's keys: its key."""
    workspace.init_stack(STACK, embedded_stack_config(endpoint))
    workspace.run("up", "-s", STACK, "--yes", "--skip-preview")
    uploader = MinioUploader(
        block_settings(workspace.outputs(STACK)["voice_ai_env"], endpoint.ca_bundle)
    )
    stored = uploader.upload_audio(
        b"ID3\x04" + b"\x00" * 2048,
        call_uuid="kept-call",
        company_id=3,
        when=dt.datetime.now(dt.UTC),
    )
    uploader.close()
    return stored.key


def _bucket_kept(endpoint: EmbeddedS3, key: str) -> None:
    s3 = endpoint.s3()
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert {r["ID"] for r in rules} == {
        "expire-voice",
        "expire-transcript",
        "expire-delete-markers",
    }
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().startswith(b"ID3")


def _users(endpoint: EmbeddedS3) -> set[str]:
    return {u["UserName"] for u in endpoint.iam().list_users()["Users"]} - {"embedded-admin"}


def test_destroy_fails_at_the_protected_bucket_and_keeps_its_recordings(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, recording: str
) -> None:
    config = parse_stack_config(load_stack_config(STACK)).to_json()
    assert _users(endpoint) == {config[full_key(key)] for key in USER_KEYS}
    result = workspace.run("destroy", "-s", STACK, "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    assert "cannot be deleted" in result.output and "protected" in result.output
    _bucket_kept(endpoint, recording)
    # What the engine deleted before it reached the bucket: everything that depends on it.
    assert _users(endpoint) == set()


def test_destroy_of_the_unprotected_bucket_leaves_it_and_its_recordings(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, recording: str
) -> None:
    urn = next(
        r["urn"]
        for r in workspace.export(STACK)["deployment"]["resources"]
        if r["urn"].endswith(BUCKET_URN_SUFFIX)
    )
    workspace.run("state", "unprotect", "-s", STACK, "--yes", urn)
    workspace.run("destroy", "-s", STACK, "--yes", "--skip-preview")
    assert workspace.export(STACK)["deployment"].get("resources") in (None, [])
    _bucket_kept(endpoint, recording)
