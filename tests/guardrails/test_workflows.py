"""The GitHub Actions workflows: valid against GitHub's schema (offline), and doing their job."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema import main as check_jsonschema  # type: ignore[import-untyped]
from click.testing import CliRunner

from policies.guardrails.offline import RENDER_DIR

REPO = RENDER_DIR.parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@v6"
PROVIDER_SECRETS = {"MINIO_USER", "MINIO_PASSWORD"}


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    loaded["on"] = loaded.pop(True, loaded.get("on"))
    return {str(key): value for key, value in loaded.items()}


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def pulumi_steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["with"] for s in steps(data) if s.get("uses") == PULUMI_ACTION]


def job_env(data: dict[str, Any]) -> set[str]:
    return {key for job in data["jobs"].values() for key in job.get("env", {})}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the schema check tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
@pytest.mark.usefixtures("no_network")
def test_workflow_matches_githubs_schema_offline(path: Path) -> None:
    result = CliRunner().invoke(
        check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(path)]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("no_network")
def test_schema_check_does_fail_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = CliRunner().invoke(
        check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(broken)]
    )
    assert result.exit_code == 1


def test_tests_run_on_push_and_pull_request() -> None:
    data = workflow("test.yml")
    assert {"push", "pull_request"} <= set(data["on"])
    assert "make test" in [s.get("run") for s in steps(data)]


def test_pull_requests_get_guard_and_a_preview_comment_with_the_pack() -> None:
    data = workflow("preview.yml")
    assert set(data["on"]) == {"pull_request"}
    assert "make guard" in [s.get("run") for s in steps(data)]
    (preview,) = pulumi_steps(data)
    assert preview["command"] == "preview" and preview["comment-on-pr"] is True
    assert preview["policyPacks"] == "policies/guardrails"
    assert data["permissions"]["pull-requests"] == "write"
    assert PROVIDER_SECRETS | {"PULUMI_ACCESS_TOKEN"} <= job_env(data)
    assert "secrets.PULUMI_BACKEND_URL" in preview["cloud-url"]


def test_main_deploys_behind_the_production_environment() -> None:
    data = workflow("deploy.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    (job,) = data["jobs"].values()
    assert job["environment"] == "production"
    (up,) = pulumi_steps(data)
    assert up["command"] == "up" and up["policyPacks"] == "policies/guardrails"
    assert job_env(data) >= PROVIDER_SECRETS


def test_drift_check_runs_on_a_schedule_and_fails_on_changes() -> None:
    data = workflow("drift.yml")
    assert data["on"]["schedule"]
    (drift,) = pulumi_steps(data)
    assert drift["command"] == "preview"
    assert drift["refresh"] is True and drift["expect-no-changes"] is True


def test_workflows_point_at_real_stacks_and_the_pack() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for step in pulumi_steps(workflow(path.name)):
            assert (REPO / f"Pulumi.{step['stack-name']}.yaml").is_file()
            if "policyPacks" in step:
                assert (REPO / step["policyPacks"] / "PulumiPolicy.yaml").is_file()


def test_no_credential_is_written_in_a_workflow() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for job in workflow(path.name)["jobs"].values():
            for key, value in job.get("env", {}).items():
                assert str(value).startswith("${{ secrets."), f"{path.name}: {key}"
