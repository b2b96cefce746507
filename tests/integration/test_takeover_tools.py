"""The takeover tools (``python -m infra.takeover survey`` / ``tag-existing``) on the hand-made
state of the specification, built on the embedded endpoint (:mod:`devtools.endpoint.handmade`).

Embedded endpoint only: the hand-made state is built through moto's backend.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.endpoint.handmade import (
    ANONYMOUS_DOWNLOAD_POLICY,
    HandMadeState,
    build_handmade,
    stack_config_for,
)
from devtools.engine.workspace import admin_env
from infra import takeover
from infra.config import full_key
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from infra.render import COMPANY_RETENTION_OVERRIDES
from tests.support import ROOT
from voice_recordings import KIND_TAG_KEY, parse_key
from voice_recordings.keys import erasure_marker_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

STACK = "prod"


def overrides(endpoint: EmbeddedS3, **extra: str) -> dict[str, str]:
    """The prod stack pointed at the embedded endpoint (its TLS and CA), plus ``extra``."""
    return {
        **stack_config_for(endpoint),
        **{full_key(k): v for k, v in extra.items()},
    }


def argv(command: str, endpoint: EmbeddedS3, *flags: str, **extra: str) -> list[str]:
    """``command --stack prod --config ...`` for the embedded endpoint."""
    config = [f"--config={k}={v}" for k, v in overrides(endpoint, **extra).items()]
    return [command, "--stack", STACK, *config, *flags]


def snapshot(endpoint: EmbeddedS3, bucket: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object version: bytes, metadata, content type, ETag, last modified."""
    s3 = admin_s3(endpoint)
    found = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            key, vid = version["Key"], version["VersionId"]
            got = s3.get_object(Bucket=bucket, Key=key, VersionId=vid)
            found[(key, vid)] = {
                "body": got["Body"].read(),
                "metadata": got["Metadata"],
                "content_type": got["ContentType"],
                "etag": got["ETag"],
                "last_modified": got["LastModified"],
            }
    return found


_ADMIN_CLIENTS: dict[str, S3Client] = {}


def admin_s3(endpoint: EmbeddedS3) -> S3Client:
    """One admin client per admin key (building a boto3 client costs more than a request)."""
    key = endpoint.admin.access_key
    if key not in _ADMIN_CLIENTS:
        _ADMIN_CLIENTS[key] = endpoint.s3()
    return _ADMIN_CLIENTS[key]


def tags(endpoint: EmbeddedS3, bucket: str, key: str, version: str | None = None) -> dict[str, str]:
    """The tags of one object version (by its own id, "null" included), read as the admin."""
    extra = {} if version is None else {"VersionId": version}
    answer = admin_s3(endpoint).get_object_tagging(Bucket=bucket, Key=key, **extra)  # type: ignore[arg-type]
    return {t["Key"]: t["Value"] for t in answer["TagSet"]}


@pytest.fixture
def handmade(embedded_s3: EmbeddedS3) -> Iterator[HandMadeState]:
    embedded_s3.reset()
    yield build_handmade(embedded_s3)


@pytest.fixture
def handmade_public(embedded_s3: EmbeddedS3) -> Iterator[HandMadeState]:
    embedded_s3.reset()
    yield build_handmade(embedded_s3, anonymous_read=True)


def run_survey(
    endpoint: EmbeddedS3, capsys: pytest.CaptureFixture[str], **extra: str
) -> tuple[int, dict[str, Any]]:
    code = takeover.cli(argv("survey", endpoint, "--json", **extra), admin_env(endpoint))
    return code, json.loads(capsys.readouterr().out)


def finding(report: dict[str, Any], id_: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [f for f in report["findings"] if f["id"] == id_]
    assert len(found) == 1, report["findings"]
    return found[0]


# -- survey ---------------------------------------------------------------------------------------


def test_the_survey_reports_the_hand_made_state_and_is_safe_to_adopt(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(embedded_s3, handmade.bucket)
    code, report = run_survey(
        embedded_s3,
        capsys,
        adoptExisting="true",
        adoptServiceAccount=handmade.console_keys.access_key,
    )
    assert code == takeover.EXIT_SAFE, report["findings"]
    assert report["bucket_exists"] is True
    assert report["versioning"] == "Off"  # `mc mb` makes an unversioned bucket
    assert report["lifecycle_rules"] == []
    assert report["anonymous_access"] == []
    assert report["encryption"] is None
    objects = report["objects"]
    assert objects["total"] == len(handmade.objects)
    assert objects["conforming"] == objects["untagged"] == len(handmade.conforming)
    assert objects["nonconforming"] == len(handmade.nonconforming)
    assert sorted(objects["nonconforming_keys"]) == sorted(handmade.nonconforming)
    untagged = finding(report, "untagged-objects")
    assert untagged["severity"] == "action"
    assert "tag-existing --stack prod --apply" in untagged["action"]
    assert all(f["severity"] != "decision" for f in report["findings"])
    commands = [c["command"] for c in report["identities"]]
    assert f"mc admin user info omniplay {handmade.user}" in commands
    assert f"mc admin policy info omniplay {handmade.policy}" in commands
    assert f"mc admin user svcacct ls omniplay {handmade.user}" in commands
    assert f"mc admin user svcacct info omniplay {handmade.console_keys.access_key}" in commands

    # Not adopting an existing bucket, or adopting a missing one: a decision each.
    code, report = run_survey(embedded_s3, capsys)
    assert code == takeover.EXIT_DECISION
    exists = finding(report, "bucket-exists")
    assert exists["severity"] == "decision"
    assert f"pulumi config set {full_key('adoptExisting')} true" in exists["action"]
    code, report = run_survey(embedded_s3, capsys, adoptExisting="true", bucket="no-such-bucket")
    assert code == takeover.EXIT_DECISION
    assert report["bucket_exists"] is False
    assert finding(report, "bucket-missing")["severity"] == "decision"

    # No admin credentials, or wrong ones: a usage error naming the variables, no secret shown.
    code = takeover.cli(argv("survey", embedded_s3), {})
    err = capsys.readouterr().err
    assert code == takeover.EXIT_USAGE
    assert ADMIN_USER_ENV in err and ADMIN_PASSWORD_ENV in err
    wrong = {ADMIN_USER_ENV: embedded_s3.admin.access_key, ADMIN_PASSWORD_ENV: "not-the-password"}
    code = takeover.cli(argv("survey", embedded_s3), wrong)
    err = capsys.readouterr().err
    assert code == takeover.EXIT_USAGE
    assert "admin's credentials" in err and "not-the-password" not in err

    assert snapshot(embedded_s3, handmade.bucket) == before  # read only
    for item in handmade.objects:
        assert tags(embedded_s3, handmade.bucket, item.key) == {}


def test_an_anonymous_policy_with_public_recordings_off_needs_a_decision_naming_both_choices(
    embedded_s3: EmbeddedS3, handmade_public: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_survey(embedded_s3, capsys, adoptExisting="true")
    assert code == takeover.EXIT_DECISION
    assert report["bucket_policy"] == ANONYMOUS_DOWNLOAD_POLICY
    granted = {
        (a, r) for g in report["anonymous_access"] for a in g["actions"] for r in g["resources"]
    }
    assert ("s3:GetObject", "arn:aws:s3:::voice-recordings/*") in granted
    assert ("s3:ListBucket", "arn:aws:s3:::voice-recordings") in granted
    decision = finding(report, "anonymous-access")
    assert decision["severity"] == "decision"
    assert "s3:GetObject on arn:aws:s3:::voice-recordings/*" in decision["message"]
    # Both choices, each with what it costs.
    assert f"{full_key('publicRecordings')}=true" in decision["action"]
    assert "mc anonymous set none omniplay/voice-recordings" in decision["action"]
    assert "stops playing" in decision["action"]

    # Public recordings on: the stack's policy replaces it; what ends is named.
    code, report = run_survey(
        embedded_s3,
        capsys,
        adoptExisting="true",
        publicRecordings="true",
        acknowledgePublicRecordings="true",
    )
    assert code == takeover.EXIT_DECISION
    ends = finding(report, "anonymous-access")["message"]
    # `mc anonymous set download` also lets anyone list and read transcripts: that ends.
    assert "s3:ListBucket" in ends and "arn:aws:s3:::voice-recordings/*" in ends

    # For a person: the same decision, the mc commands, the verdict.
    takeover.cli(argv("survey", embedded_s3, adoptExisting="true"), admin_env(embedded_s3))
    out = capsys.readouterr().out
    assert code == takeover.EXIT_DECISION
    assert "DECISION anonymous-access" in out
    assert "mc admin user svcacct ls omniplay voice-ai-service" in out
    assert "need a decision" in out


def test_lifecycle_rules_the_stack_would_drop_need_a_decision(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    embedded_s3.s3().put_bucket_lifecycle_configuration(
        Bucket=handmade.bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "hand-made-expiry",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": 90},
                }
            ]
        },
    )
    code, report = run_survey(embedded_s3, capsys, adoptExisting="true")
    assert code == takeover.EXIT_DECISION
    assert [r["ID"] for r in report["lifecycle_rules"]] == ["hand-made-expiry"]
    assert "hand-made-expiry" in finding(report, "lifecycle-replaced")["message"]


def test_a_company_s_own_retention_is_surveyed_by_a_few_rule_names_and_a_count(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    own = {key.split(":", 1)[1]: value for key, value in COMPANY_RETENTION_OVERRIDES.items()}
    _, report = run_survey(embedded_s3, capsys, adoptExisting="true", **own)
    message = finding(report, "lifecycle")["message"]
    assert "expire-transcript-company_1*" in message and "more" in message
    assert len(message) < 400, message


def test_tag_existing_runs_as_a_module_a_dry_run_by_default_with_progress_on_stderr(
    embedded_s3: EmbeddedS3, handmade: HandMadeState
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.takeover", *argv("tag-existing", embedded_s3, "--json")],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **admin_env(embedded_s3)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["applied"] is False
    assert report["to_tag"] == len(handmade.conforming) and report["tagged"] == 0
    assert sorted(report["nonconforming_keys"]) == sorted(handmade.nonconforming)
    assert "tag-existing: scanned" in done.stderr
    assert embedded_s3.admin.secret_key not in done.stdout + done.stderr
    for item in handmade.objects:
        assert tags(embedded_s3, handmade.bucket, item.key) == {}


# -- tag-existing ---------------------------------------------------------------------------------


def run_tag(
    endpoint: EmbeddedS3, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, dict[str, Any]]:
    code = takeover.cli(argv("tag-existing", endpoint, "--json", *flags), admin_env(endpoint))
    return code, json.loads(capsys.readouterr().out)


def test_tag_existing_tags_every_conforming_object_and_nothing_else_and_twice_is_a_no_op(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(embedded_s3, handmade.bucket)
    code, report = run_tag(embedded_s3, capsys, "--apply", "--concurrency", "3")
    assert code == 0, report
    assert report["tagged"] == len(handmade.conforming)
    assert report["failed"] == []
    for item in handmade.objects:
        got = tags(embedded_s3, handmade.bucket, item.key)
        if item.key in handmade.nonconforming:
            assert got == {}
        else:
            assert got == {KIND_TAG_KEY: parse_key(item.key).kind}
    # Bytes, metadata, content type, ETag and modification time: untouched.
    assert snapshot(embedded_s3, handmade.bucket) == before
    for item in handmade.objects:
        assert before[(item.key, "null")]["body"] == item.body
        assert before[(item.key, "null")]["metadata"] == item.metadata

    code, again = run_tag(embedded_s3, capsys, "--apply")
    assert code == 0
    assert again["tagged"] == 0 and again["already_tagged"] == len(handmade.conforming)
    assert snapshot(embedded_s3, handmade.bucket) == before


def test_tag_existing_resumes_keeps_other_tags_and_tags_every_version(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, bucket = admin_s3(embedded_s3), handmade.bucket
    first, second, *rest = handmade.conforming
    # An interrupted earlier run tagged `first`; someone gave `second` a tag of their own.
    kind = parse_key(first.key).kind
    s3.put_object_tagging(
        Bucket=bucket, Key=first.key, Tagging={"TagSet": [{"Key": KIND_TAG_KEY, "Value": kind}]}
    )
    s3.put_object_tagging(
        Bucket=bucket, Key=second.key, Tagging={"TagSet": [{"Key": "case", "Value": "4711"}]}
    )
    # Versioning on (as after `pulumi up`) and `rest[0]` overwritten: two versions, both untagged.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key=rest[0].key, Body=b"re-uploaded", Metadata=rest[0].metadata)

    code, report = run_tag(embedded_s3, capsys, "--apply")
    assert code == 0, report
    assert report["already_tagged"] == 1
    assert report["tagged"] == len(handmade.conforming)  # all but `first`, plus the new version
    assert tags(embedded_s3, bucket, second.key) == {
        "case": "4711",
        KIND_TAG_KEY: parse_key(second.key).kind,
    }
    versions = s3.list_object_versions(Bucket=bucket, Prefix=rest[0].key)["Versions"]
    assert len(versions) == 2
    for version in versions:
        assert tags(embedded_s3, bucket, rest[0].key, version["VersionId"]) == {
            KIND_TAG_KEY: parse_key(rest[0].key).kind
        }


def test_hand_set_encryption_and_a_named_grant_need_a_decision_and_a_full_tag_set_fails_listed(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, bucket = admin_s3(embedded_s3), handmade.bucket
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::123456789012:user/someone"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(grant))
    code, report = run_survey(embedded_s3, capsys, adoptExisting="true")
    assert code == takeover.EXIT_DECISION
    assert report["anonymous_access"] == []
    assert finding(report, "bucket-policy")["severity"] == "decision"
    assert finding(report, "encryption")["severity"] == "decision"
    assert "mc encrypt clear omniplay/voice-recordings" in finding(report, "encryption")["action"]

    # An object that already holds the 10 tags S3 allows cannot take a kind tag: listed, exit 1.
    full = handmade.conforming[0]
    s3.put_object_tagging(
        Bucket=bucket,
        Key=full.key,
        Tagging={"TagSet": [{"Key": f"t{n}", "Value": "x"} for n in range(10)]},
    )
    code, report = run_tag(embedded_s3, capsys, "--apply")
    assert code == takeover.EXIT_FAILED
    assert len(report["failed"]) == 1 and full.key in report["failed"][0]
    assert report["tagged"] == len(handmade.conforming) - 1


# -- versions from before versioning (their id is "null") ------------------------------------------

# What happens to each key of the hand-made state once versioning is enabled (runbook step 4):
# every key was stored unversioned first, so each has a "null" version.
HISTORIES = {
    "overwritten": ["put"],
    "deleted": ["delete"],
    "overwritten-then-deleted": ["put", "put", "delete"],
    "deleted-then-rewritten": ["delete", "put"],
    "suspended-then-rewritten": ["put", "suspend", "put"],
}


@pytest.mark.parametrize("history", sorted(HISTORIES))
def test_every_version_null_included_is_surveyed_and_tagged_by_its_own_id(
    embedded_s3: EmbeddedS3,
    handmade: HandMadeState,
    capsys: pytest.CaptureFixture[str],
    history: str,
) -> None:
    s3, bucket = admin_s3(embedded_s3), handmade.bucket
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for item in handmade.conforming:
        for step in HISTORIES[history]:
            if step == "put":
                s3.put_object(Bucket=bucket, Key=item.key, Body=b"again", Metadata=item.metadata)
            elif step == "delete":
                s3.delete_object(Bucket=bucket, Key=item.key)
            else:
                s3.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
                )
    listed = [
        (v["Key"], v["VersionId"])
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for v in page.get("Versions", [])
    ]
    conforming = {item.key for item in handmade.conforming}
    nulls = [(key, vid) for key, vid in listed if vid == "null" and key in conforming]
    assert nulls, "the history must leave null versions to tag"

    code, survey = run_survey(embedded_s3, capsys)
    assert survey["objects"]["total"] == len(listed)  # a null version under a marker too
    assert survey["objects"]["untagged"] == sum(key in conforming for key, _ in listed)

    code, report = run_tag(embedded_s3, capsys, "--apply")
    assert code == 0 and report["failed"] == [] and report["vanished"] == 0, report
    for key, vid in listed:
        expected = {KIND_TAG_KEY: parse_key(key).kind} if key in conforming else {}
        assert tags(embedded_s3, bucket, key, vid) == expected, (key, vid)
    code, again = run_tag(embedded_s3, capsys, "--apply")
    assert again["tagged"] == 0 and again["already_tagged"] == len(
        [1 for key, _ in listed if key in conforming]
    )


def test_the_survey_keeps_the_erasure_markers_and_never_advises_removing_them(
    embedded_s3: EmbeddedS3, handmade: HandMadeState, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = erasure_marker_key(5, "erased-call")
    body = json.dumps({"erased_at": "2026-03-04T10:00:00Z"}).encode()
    admin_s3(embedded_s3).put_object(Bucket=handmade.bucket, Key=marker, Body=body)
    _, report = run_survey(embedded_s3, capsys, adoptExisting="true")
    objects = report["objects"]
    assert objects["erasure_markers"] == 1
    assert objects["nonconforming"] == len(handmade.nonconforming)
    assert marker not in objects["nonconforming_keys"]
    assert all(marker not in json.dumps(f) for f in report["findings"])
    takeover.cli(argv("survey", embedded_s3, adoptExisting="true"), admin_env(embedded_s3))
    text = capsys.readouterr().out
    assert f"outside the layout: {marker}" not in text and "1 erasure markers" in text, text
