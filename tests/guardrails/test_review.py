"""`make review` (python -m policies.review): what a change does, as tables a person reads.

The review of one company's own retention fits on a screen, says exactly what changes, and is the
example docs/operating.md shows; grants, replacements and the effective retention are read right.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Final

import pytest

from infra.config import COMPANY_RETENTION_KEY, RETENTION_KEYS, full_key
from infra.render import render_stack
from policies.guardrails.offline import RENDER_DIR
from policies.review.__main__ import main
from policies.review.report import review
from policies.review.sides import BaseError, renders_at, resolve_base
from tests.docs import OPERATING, section
from tests.guardrails.renders import Render, find, load_committed
from tests.support import PUBLIC_OVERRIDES
from voice_recordings.keys import VOICE

ONE_COMPANY: Final = '{"42":{"voice":1825}}'
SCREEN: Final = 40  # lines


def _documented_example() -> list[str]:
    text = section(OPERATING, "The review")
    block = re.search(r"```text\n(.*?)```", text, re.DOTALL)
    assert block, "docs/operating.md's review has no example block"
    return block[1].splitlines()


def test_one_company_s_retention_fits_a_screen_and_is_the_documented_review(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--before", str(RENDER_DIR), "--stack", "prod"]
    assert main([*argv, "--config", f"{COMPANY_RETENTION_KEY}={ONE_COMPANY}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) <= SCREEN
    # Correct: the one lifecycle changes (two indexes, the rest appended), no grant, and only
    # company 42's voice retention; prod and prod-adopt read the same, the rest not at all.
    assert "### prod, prod-adopt" in lines
    assert (
        "| IlmPolicy recordings-lifecycle | update | rules: 3 → 60 items (2 changed, 57 added) |"
        in lines
    )
    assert "| company 42 | 365 d → 1825 d | 365 d | 30 d |" in lines
    assert "| every other company | 365 d | 365 d | 30 d |" in lines
    assert [line for line in lines if "→" in line and "|" not in line][1:] == [
        'Config: `voice-recordings:companyRetention` {} → {"42":{"transcript":365,"voice":1825}}.',
        "company 42: voice 365 d → 1825 d",
    ]
    assert lines[-1] == "No change: dev, prod-company-retention."
    # The docs show it as `make review` prints it after the change is committed.
    documented = _documented_example()
    assert documented[0] == "## Review: the renders at origin/main → what the program renders now"
    assert documented[1:] == lines[1:]


def _prod() -> Render:
    return load_committed("prod")


def test_unchanged_renders_are_one_line() -> None:
    assert review({"prod": _prod()}, {"prod": _prod()}, "main").splitlines()[-1] == (
        "No change: prod."
    )


def test_a_grant_that_changes_shows_the_identity_before_and_after() -> None:
    after = _prod()
    statements = find(after, ":IamPolicy", "observer-policy")["inputs"]["policy"]["Statement"]
    statements[0]["Action"].append("s3:GetObject")
    text = review({"prod": _prod()}, {"prod": after}, "main")
    before_actions = ", ".join(_prod_observer_actions())
    assert (
        f"| pulumi-observer | voice-recordings | {before_actions} | "
        f"{', '.join(sorted([*_prod_observer_actions(), 's3:GetObject']))} |"
    ) in text.splitlines()
    assert "| IamPolicy observer-policy | update | policy |" in text


def _prod_observer_actions() -> list[str]:
    statements = find(_prod(), ":IamPolicy", "observer-policy")["inputs"]["policy"]["Statement"]
    return sorted(statements[0]["Action"])


def test_public_playback_is_a_new_grant_to_anyone() -> None:
    text = review({"prod": _prod()}, {"prod": render_stack("prod", PUBLIC_OVERRIDES)}, "main")
    lines = text.splitlines()
    assert "| S3BucketPolicy public-recordings-policy | create |  |" in lines
    assert (
        "| anyone (bucket policy) | voice-recordings/company_*/voice/* | — | s3:GetObject |"
    ) in lines


def test_a_renamed_identity_is_replaced_and_a_removed_one_deleted() -> None:
    after = render_stack(
        "prod",
        {full_key("uploaderUser"): "voice-ai-service-2", full_key("omniplayReader"): "false"},
    )
    lines = review({"prod": _prod()}, {"prod": after}, "main").splitlines()
    # A user is its name: a new name replaces it, and what names it (force-new inputs).
    assert "| IamUser uploader-user | replace | name |" in lines
    assert "| IamServiceAccount voice-ai-realtime | replace | targetUser |" in lines
    assert "| IamUserPolicyAttachment uploader-policy-attachment | replace | userName |" in lines
    assert "| IamUser reader-user | delete |  |" in lines
    # The reader's grants go; the uploader's move to its new name.
    assert "| omniplay-reader | voice-recordings/* | s3:GetObject | — |" in lines
    assert "| voice-ai-service | voice-recordings | s3:ListBucket | — |" in lines
    assert "| voice-ai-service-2 | voice-recordings | — | s3:ListBucket |" in lines


def test_a_new_default_retention_leaves_the_company_with_its_own_alone() -> None:
    before = load_committed("prod-company-retention")
    own = json.dumps(before["config"][full_key(COMPANY_RETENTION_KEY)])
    after = render_stack(
        "prod", {full_key(COMPANY_RETENTION_KEY): own, full_key(RETENTION_KEYS[VOICE]): "400"}
    )
    lines = review({"x": before}, {"x": after}, "main").splitlines()
    assert "| company 42 | 1825 d | 730 d | 30 d |" in lines
    assert "| every other company | 365 d → 400 d | 365 d | 30 d |" in lines
    assert "every other company: voice 365 d → 400 d" in lines


def test_a_bucket_wide_expiry_shows_what_it_does_to_every_object() -> None:
    after = _prod()
    rules = find(after, ":IlmPolicy")["inputs"]["rules"]
    rules.append({"id": "sweep", "expiration": "30d"})
    lines = review({"prod": _prod()}, {"prod": after}, "main").splitlines()
    assert "| every company | 365 d → 30 d | 365 d → 30 d | 30 d |" in lines
    assert "| untagged objects | kept → 30 d | kept → 30 d | kept |" in lines
    assert "untagged objects: kept → 30 d" in lines


def test_a_new_render_is_all_created() -> None:
    lines = review({}, {"dev": load_committed("dev")}, "main").splitlines()
    assert "| S3Bucket recordings-bucket | create |  |" in lines
    assert "| voice-ai-service | voice-recordings/* | — | s3:GetObject |" in lines
    assert (
        "| voice-ai-service | voice-recordings/company_* | — "
        "| s3:AbortMultipartUpload, s3:PutObject, s3:PutObjectTagging |" in lines
    )


def test_the_base_is_read_from_git() -> None:
    assert set(renders_at("HEAD")) >= {"prod", "dev"}
    assert resolve_base("HEAD") == "HEAD"
    with pytest.raises(BaseError, match="no revision no-such-branch"):
        resolve_base("no-such-branch")


def test_an_unknown_base_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base", "no-such-branch"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "review: no revision no-such-branch in this clone (BASE=<revision> picks another)"
    ]


def test_review_does_not_change_its_inputs() -> None:
    before, after = _prod(), render_stack("prod", PUBLIC_OVERRIDES)
    kept = copy.deepcopy((before, after))
    review({"prod": before}, {"prod": after}, "main")
    assert (before, after) == kept
