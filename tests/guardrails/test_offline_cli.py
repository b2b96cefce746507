"""`make guard` (python -m policies.guardrails.offline): output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config import RETENTION_KEYS, full_key
from infra.render import render_text
from policies.guardrails.offline import RENDER_DIR, main
from tests.guardrails.renders import Render, find, load_committed, observer_statement
from voice_recordings.keys import VOICE

REPO = RENDER_DIR.parents[1]


def guard(*renders: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policies.guardrails.offline", *map(str, renders)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, render: Render) -> Path:
    path = tmp_path / "render.json"
    path.write_text(json.dumps(render))
    return path


def test_committed_renders_pass() -> None:
    result = guard()
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in ("prod", "dev"):
        assert f"{stack}.json: 0 mandatory" in result.stdout


def test_a_widened_render_fails_listing_each_violation(tmp_path: Path) -> None:
    render = load_committed("prod")
    find(render, ":S3Bucket")["inputs"]["forceDestroy"] = True
    find(render, ":S3Bucket")["inputs"]["acl"] = "public-read"
    result = guard(write(tmp_path, render))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any("MANDATORY bucket-protected: S3Bucket 'recordings-bucket'" in x for x in lines)
    assert any("MANDATORY bucket-acl-private: S3Bucket 'recordings-bucket'" in x for x in lines)
    assert "2 mandatory" in result.stdout


def test_advisories_alone_pass(tmp_path: Path) -> None:
    render = load_committed("prod")
    rules = find(render, ":IlmPolicy")["inputs"]["rules"]
    # A ten-year retention, configured and rendered alike: outside the recommended range only.
    next(r for r in rules if r.get("tags") == {"kind": "voice"})["expiration"] = "3650d"
    render["config"][full_key(RETENTION_KEYS[VOICE])] = 3650
    result = guard(write(tmp_path, render))
    assert result.returncode == 0
    assert "ADVISORY retention-in-range" in result.stdout


def test_one_bad_render_among_good_ones_fails(tmp_path: Path) -> None:
    render = load_committed("dev")
    find(render, ":S3Bucket")["protect"] = False
    result = guard(RENDER_DIR / "prod.json", write(tmp_path, render))
    assert result.returncode == 1
    assert "prod.json: 0 mandatory" in result.stdout


def test_unreadable_render_is_an_error_not_a_pass(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = guard(path)
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_make_guard_runs_this_module_with_render() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nguard:", 1)[1].split("\n\n", 1)[0]
    assert "-m policies.guardrails.offline $(RENDER)" in recipe


def test_an_observer_with_a_write_action_fails(tmp_path: Path) -> None:
    render = load_committed("prod")
    observer_statement(render, "s3")["Action"].append("s3:PutLifecycleConfiguration")
    result = guard(write(tmp_path, render))
    assert result.returncode == 1
    assert any(
        "MANDATORY observer-read-only: IamPolicy 'observer-policy'" in line
        and "'s3:PutLifecycleConfiguration'" in line
        for line in result.stdout.splitlines()
    ), result.stdout


def test_make_guard_reads_documents_as_minio_and_refuses_what_no_rule_knows(
    tmp_path: Path,
) -> None:
    render = load_committed("prod")
    # A lower-case statement granting delete (MinIO reads keys in any case) ...
    uploader = next(r for r in render["resources"] if r["inputs"].get("name") == "voice-ai-policy")
    uploader["inputs"]["policy"] = {
        "version": "2012-10-17",
        "statement": [
            {
                "effect": "Allow",
                "action": "s3:DeleteObject",
                "resource": "arn:aws:s3:::voice-recordings/*",
            }
        ],
    }
    # ... and a group that makes the uploader a consoleAdmin, which no rule knows.
    render["resources"].append(
        {
            "type": "minio:index/iamGroupPolicyAttachment:IamGroupPolicyAttachment",
            "name": "ops-admin",
            "inputs": {"groupName": "ops", "policyName": "consoleAdmin"},
        }
    )
    result = guard(write(tmp_path, render))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(
        "MANDATORY iam-least-privilege: IamPolicy 'uploader-policy'" in x and "s3:DeleteObject" in x
        for x in lines
    )
    assert any(
        "MANDATORY known-resources-only: IamGroupPolicyAttachment 'ops-admin'" in x for x in lines
    )


def _committed_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "rendered"
    shutil.copytree(RENDER_DIR, copy)
    return copy


def test_a_stale_committed_render_fails_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: a retention change whose render was not regenerated. The committed
    render still passes the rules, so checking it would say "clean" about an unreviewed change."""
    rendered = _committed_copy(tmp_path)
    committed = render_text("prod", {full_key(RETENTION_KEYS[VOICE]): "400"})
    (rendered / "prod.json").write_text(committed)
    assert main([str(rendered / "prod.json")]) == 0  # as a file, it is a good render
    assert main(["--rendered", str(rendered)]) == 1
    _, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line == (
        f"guardrails: {rendered / 'prod.json'} is stale: the program renders it differently; "
        "run `make render`"
    )


def test_a_render_no_stack_makes_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rendered = _committed_copy(tmp_path)
    (rendered / "staging.json").write_text((rendered / "dev.json").read_text())
    assert main(["--rendered", str(rendered)]) == 1
    assert "staging.json is no stack's or variant's render any more" in capsys.readouterr().err


def test_a_render_is_judged_by_the_programs_config_rules(tmp_path: Path) -> None:
    # Read by infra.config, one value at a time: an edited render that pairs public recordings
    # with no acknowledgement is judged as it is, a value the program refuses is an error.
    render = load_committed("dev")
    render["config"][full_key("publicRecordings")] = True
    render["config"][full_key("acknowledgePublicRecordings")] = False
    assert guard(write(tmp_path, render)).returncode == 0
    render["config"][full_key("bucket")] = "Not A Bucket"
    result = guard(write(tmp_path, render))
    assert result.returncode == 2
    assert "voice-recordings:bucket must be" in result.stdout + result.stderr
