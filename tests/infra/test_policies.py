"""The policy files: one loader, the stack's bucket substituted, least privilege."""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime

import pytest

from infra.policies import (
    BUCKET_PLACEHOLDER,
    OBSERVER_POLICY,
    POLICY_DIR,
    PUBLIC_RECORDINGS_POLICY,
    READER_POLICY,
    REFRESH_READS,
    UPLOADER_POLICY,
    load_policy,
)
from tests.docs import OPERATING, read
from tests.support import PUBLIC_OPT_IN, program_run
from voice_recordings import recording_key, transcript_key
from voice_recordings.permissions import (
    OBSERVER_ACTIONS,
    erasures_arn,
    uploader_grants,
)

WHEN = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)


def _statements(name: str, bucket: str = "my-bucket") -> list[dict[str, object]]:
    statements = load_policy(name, bucket)["Statement"]
    assert isinstance(statements, list)
    return statements


def _actions(name: str) -> set[str]:
    return {a for s in _statements(name) for a in s["Action"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name", [UPLOADER_POLICY, READER_POLICY, PUBLIC_RECORDINGS_POLICY, OBSERVER_POLICY]
)
def test_the_bucket_is_substituted_everywhere(name: str) -> None:
    text = (POLICY_DIR / f"{name}.json").read_text()
    assert BUCKET_PLACEHOLDER in text
    loaded = json.dumps(load_policy(name, "my-bucket"))
    assert "${" not in loaded
    assert "arn:aws:s3:::my-bucket" in loaded


def test_the_uploader_gets_the_specifications_actions_plus_tagging_and_nothing_else() -> None:
    # Plus the abort of a multipart upload cut short by the deadline (issue 26.8).
    assert _actions(UPLOADER_POLICY) == {
        "s3:AbortMultipartUpload",
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObjectTagging",
    }
    granted = {
        (action, arn)
        for statement in _statements(UPLOADER_POLICY)
        for action in statement["Action"]  # type: ignore[attr-defined]
        for arn in statement["Resource"]  # type: ignore[attr-defined]
    }
    # Listing on the bucket, object actions on the key layout and the probe, and only reads of
    # the erasure markers: least privilege, and no erasure decided by the Voice AI.
    assert granted == uploader_grants("my-bucket")
    assert not any(
        arn.startswith(erasures_arn("my-bucket")[:-1]) and action != "s3:GetObject"
        for action, arn in granted
    )


def test_the_reader_may_only_get_objects() -> None:
    assert _statements(READER_POLICY) == [
        {
            "Sid": "PlayRecordings",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::my-bucket/*"],
        }
    ]


def test_the_public_policy_reads_recordings_only_never_transcripts_nor_listing() -> None:
    (statement,) = _statements(PUBLIC_RECORDINGS_POLICY)
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Principal"] == {"AWS": ["*"]}
    resources = statement["Resource"]
    assert isinstance(resources, list) and len(resources) == 1
    pattern = str(resources[0])
    prefix = "arn:aws:s3:::my-bucket/"
    assert fnmatch.fnmatchcase(prefix + recording_key(5, "abc-123", WHEN), pattern)
    assert not fnmatch.fnmatchcase(prefix + transcript_key(5, "abc-123", WHEN), pattern)


def test_a_policy_with_another_placeholder_is_refused(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "odd.json").write_text('{"Resource": "${account}"}')
    monkeypatch.setattr("infra.policies.POLICY_DIR", tmp_path)
    with pytest.raises(ValueError, match="placeholder"):
        load_policy("odd", "my-bucket")


REFRESH_VARIANTS = [
    ("prod", {}),
    ("dev", {}),
    ("prod", {"voice-recordings:encryptionKeyId": "voice-recordings-key"}),
    ("prod", PUBLIC_OPT_IN),
    ("dev", {"voice-recordings:omniplayReader": "false"}),
]


@pytest.mark.parametrize(("stack", "overrides"), REFRESH_VARIANTS)
def test_refresh_reads_cover_every_minio_resource_the_program_makes(
    stack: str, overrides: dict[str, str]
) -> None:
    # A new resource type needs its Read's actions in REFRESH_READS (and so in the observer's).
    types = {r.type for r in program_run(stack, overrides).resources}
    minio_types = {t for t in types if t.startswith(("minio:", "pulumi:providers:minio"))}
    assert minio_types <= set(REFRESH_READS), sorted(minio_types - set(REFRESH_READS))


def test_the_observer_may_read_exactly_what_refresh_reads() -> None:
    needed = {action for actions in REFRESH_READS.values() for action in actions}
    assert needed == set(OBSERVER_ACTIONS)
    assert _actions(OBSERVER_POLICY) == set(OBSERVER_ACTIONS)
    # Bucket configuration only: on the bucket itself, never on its objects.
    (s3_statement,) = [s for s in _statements(OBSERVER_POLICY) if "Resource" in s]
    assert s3_statement["Resource"] == ["arn:aws:s3:::my-bucket"]


def test_the_readme_names_each_of_the_observers_actions() -> None:
    readme = read(OPERATING)
    section = readme.split("The observer (user `pulumi-observer`", 1)[1].split("\n\n", 1)[0]
    assert [a for a in OBSERVER_ACTIONS if f"`{a}`" not in section] == []
