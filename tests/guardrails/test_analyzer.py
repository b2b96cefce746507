"""The analyzer's shape (policies/guardrails/analyzer.py) without the engine: a render read as
the engine hands it, the wire's secrets and unknowns, and `make guard` on a recording.

What the engine really sends is recorded and compared in tests/engine/test_policy_pack.py."""

from __future__ import annotations

import json
from pathlib import Path

from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from infra import render_format
from policies.guardrails.analyzer import (
    RETAIN_ON_DELETE,
    WIRE_UNKNOWN,
    Requests,
    check_requests,
    requests_of_render,
    resource_of,
)
from policies.guardrails.model import UNKNOWN, StackContext
from policies.guardrails.offline import check_render
from tests.guardrails.renders import load_committed
from tests.guardrails.test_offline_cli import guard


def _named(requests: Requests, name: str) -> dict[str, object]:
    return dict(next(r for r in requests.analyze if r["name"] == name))


def test_a_render_reads_with_the_providers_defaults_and_json_documents() -> None:
    requests = requests_of_render(load_committed("prod"))
    bucket = _named(requests, "recordings-bucket")
    assert bucket["properties"] == {
        "bucket": "voice-recordings",
        "acl": "private",
        "forceDestroy": False,  # set by the program; a falsy schema default is never filled
    }
    options = {RETAIN_ON_DELETE: True, "protect": True, "parent": bucket["parent"]}
    assert bucket["options"] == options
    assert str(bucket["urn"]).endswith(
        f"RecordingStorage${render_format.BUCKET}::recordings-bucket"
    )
    policy = _named(requests, "uploader-policy")["properties"]
    assert isinstance(policy, dict) and isinstance(policy["policy"], str)
    assert json.loads(policy["policy"])["Version"] == "2012-10-17"


def test_secrets_and_unknowns_on_the_wire_reach_the_rules_as_marker_and_unknown() -> None:
    wire = {
        "type": render_format.IAM_USER,
        "name": "uploader-user",
        "properties": {
            "name": WIRE_UNKNOWN,
            "secret": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": "plaintext"},
        },
        "options": {},
        "dependencies": ["urn:pulumi:dev::voice-recordings::t::recordings-bucket"],
    }
    resource = resource_of(wire, stack=True)
    assert resource.inputs == {"name": UNKNOWN, "secret": render_format.SECRET_MARKER}
    assert resource.depends_on == ("recordings-bucket",)
    assert resource.retain_on_delete is None and not resource.protect
    assert resource_of(wire, stack=False).depends_on is None  # Analyze carries no dependencies


def test_stack_rules_read_the_stack_request_and_resource_rules_the_resource_requests() -> None:
    requests = requests_of_render(load_committed("dev"))
    ctx = StackContext.from_config(load_committed("dev")["config"])
    no_lifecycle = [r for r in requests.analyze if r["type"] != render_format.LIFECYCLE]
    stack_only = Requests(requests.analyze, no_lifecycle)
    resource_only = Requests(no_lifecycle, requests.analyze)
    assert "lifecycle-per-kind" in {v.rule for v in check_requests(stack_only, ctx)}
    assert "lifecycle-per-kind" not in {v.rule for v in check_requests(resource_only, ctx)}


def test_make_guard_reads_a_recording_as_it_reads_the_render(tmp_path: Path) -> None:
    render = load_committed("dev")
    bucket = next(r for r in render["resources"] if r["type"] == render_format.BUCKET)
    bucket["protect"] = False
    recording = requests_of_render(render)
    config = render["config"].items()
    raw = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in config}
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(Requests(recording.analyze, recording.analyze_stack, raw).to_json()))
    result = guard(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MANDATORY bucket-protected" in result.stdout
    from_render = {v.rule for v in check_render(render)}
    from_recording = {v.rule for v in check_render(json.loads(path.read_text()))}
    assert from_recording == from_render
