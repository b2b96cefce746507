"""parliament (a maintained IAM linter) over every policy document in policies/*.json."""

from __future__ import annotations

import json
from pathlib import Path

import parliament
import pytest

from infra.policies import POLICY_DIR, load_policy
from voice_recordings import DEFAULT_BUCKET

POLICY_FILES = sorted(POLICY_DIR.glob("*.json"))

# Findings we accept, with the reason: (file stem, parliament issue) -> why. Empty on purpose.
JUSTIFIED: dict[tuple[str, str], str] = {}


def findings(document: dict[str, object]) -> list[str]:
    policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
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
