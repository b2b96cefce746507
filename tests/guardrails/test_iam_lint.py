"""parliament (a maintained IAM linter) over every policy document in policies/*.json."""

from __future__ import annotations

import json
from pathlib import Path

import parliament
import pytest

from infra.policies import OBSERVER_POLICY, POLICY_DIR, load_policy
from voice_recordings import DEFAULT_BUCKET
from voice_recordings.permissions import OBSERVER_ADMIN_ACTIONS

POLICY_FILES = sorted(POLICY_DIR.glob("*.json"))

# Findings we accept, with the reason: (file stem, parliament issue) -> why. Empty on purpose.
JUSTIFIED: dict[tuple[str, str], str] = {}


def _is_minio_admin(statement: dict[str, object]) -> bool:
    actions = statement.get("Action")
    listed = actions if isinstance(actions, list) else [actions]
    return all(str(action).startswith("admin:") for action in listed)


def aws_part(document: dict[str, object]) -> dict[str, object]:
    """The document without MinIO admin statements, which are not AWS IAM (no Resource)."""
    statements = document["Statement"]
    assert isinstance(statements, list)
    return {**document, "Statement": [s for s in statements if not _is_minio_admin(s)]}


def findings(document: dict[str, object]) -> list[str]:
    policy = parliament.analyze_policy_string(
        json.dumps(aws_part(document)), include_community_auditors=True
    )
    return [finding.issue for finding in policy.findings]


def test_there_are_policy_files() -> None:
    assert {p.stem for p in POLICY_FILES} >= {"voice-ai-uploader", "omniplay-reader"}


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_policy_file_has_no_linter_findings(path: Path) -> None:
    issues = findings(load_policy(path.stem, DEFAULT_BUCKET))
    unexplained = [i for i in issues if (path.stem, i) not in JUSTIFIED]
    assert unexplained == []


def test_the_linter_does_catch_a_widened_policy() -> None:
    widened = load_policy("voice-ai-uploader", DEFAULT_BUCKET)
    widened["Statement"].append({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert "RESOURCE_STAR" in findings(widened)


def test_the_minio_admin_part_is_the_observers_reads_in_minios_shape() -> None:
    # parliament knows only AWS; MinIO's admin statements carry no Resource (minio/pkg policy).
    document = load_policy(OBSERVER_POLICY, DEFAULT_BUCKET)
    admin = [s for s in document["Statement"] if _is_minio_admin(s)]
    assert admin == [
        {
            "Sid": "RefreshReadsTheIdentities",
            "Effect": "Allow",
            "Action": list(OBSERVER_ADMIN_ACTIONS),
        }
    ]
    others = [p.stem for p in POLICY_FILES if p.stem != OBSERVER_POLICY]
    for name in others:
        assert aws_part(load_policy(name, DEFAULT_BUCKET)) == load_policy(name, DEFAULT_BUCKET)
