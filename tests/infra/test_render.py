"""The offline render: the committed snapshots, determinism, the CLI."""

from __future__ import annotations

import ast
import asyncio
import gc
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pulumi
import pulumi_minio as minio
import pytest
import yaml

from infra.mocked_run import run_program
from infra.program import EXIT_AFTER_USER_MESSAGE
from infra.project import REPOSITORY
from infra.render import (
    VARIANTS,
    cli,
    render_stack,
    render_text,
    snapshot_path,
)
from tests.support import PUBLIC_OPT_IN, STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_the_committed_snapshot_is_up_to_date(stack: str) -> None:
    committed = snapshot_path(stack).read_text(encoding="utf-8")
    assert render_text(stack) == committed, (
        f"{snapshot_path(stack).relative_to(REPOSITORY)} is stale: the program, a policy file or "
        f"Pulumi.{stack}.yaml changed. Run make render and commit the result."
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_committed_variant_snapshot_is_up_to_date(variant: str) -> None:
    stack, overrides = VARIANTS[variant]
    committed = snapshot_path(variant).read_text(encoding="utf-8")
    assert render_text(stack, overrides) == committed, (
        f"{snapshot_path(variant).relative_to(REPOSITORY)} is stale: run make render and commit it"
    )


def test_the_cli_writes_a_variant_to_its_snapshot_path(tmp_path: Path) -> None:
    output = tmp_path / "adopt.json"
    assert cli(["--variant", "prod-adopt", "--output", str(output)]) == 0
    assert output.read_text() == snapshot_path("prod-adopt").read_text()


def test_render_stack_is_repeatable_in_one_process() -> None:
    first = render_stack("dev")
    render_stack("prod")
    public = render_stack("dev", PUBLIC_OPT_IN)
    assert render_stack("dev") == first
    assert len(public["resources"]) == len(first["resources"]) + 1


def test_render_works_after_asyncio_run_left_no_event_loop() -> None:
    async def service_call() -> None:
        return None

    first = render_stack("dev")
    asyncio.run(service_call())  # leaves the thread without a current event loop
    assert render_stack("dev") == first


def test_a_render_leaves_no_event_loop_open() -> None:
    # pulumi's workers each make a loop nobody closes (three descriptors each): the render must.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        render_stack("dev")
        gc.collect()
    assert [str(w.message) for w in caught if "unclosed event loop" in str(w.message)] == []


def test_the_render_follows_the_format() -> None:
    document = render_stack("prod")
    assert set(document) == {"project", "stack", "config", "resources", "outputs"}
    assert (document["project"], document["stack"]) == ("voice-recordings", "prod")
    keys = [(r["type"], r["name"]) for r in document["resources"]]
    assert keys == sorted(keys)
    for resource in document["resources"]:
        always = {"type", "name", "parent", "protect", "retain_on_delete", "inputs"}
        assert always | {"depends_on", "ignore_changes"} <= set(resource)
        assert set(resource) <= always | {"depends_on", "ignore_changes", "aliases", "import"}
        if "policy" in resource["inputs"]:
            assert isinstance(resource["inputs"]["policy"], dict)


def test_the_cli_writes_the_snapshot_format(tmp_path: Path) -> None:
    output = tmp_path / "out" / "dev.json"
    assert cli(["--stack", "dev", "--output", str(output)]) == 0
    assert output.read_text() == snapshot_path("dev").read_text()


def test_the_cli_takes_config_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli(
            [
                "--stack",
                "dev",
                "--config",
                "voice-recordings:bucket=other-bucket",
                "--config",
                "recordingRetentionDays=7",
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["outputs"]["bucket"] == "other-bucket"
    assert document["config"]["voice-recordings:recordingRetentionDays"] == 7


def test_a_bad_config_exits_non_zero_with_one_line_naming_the_key() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.render",
            "--stack",
            "prod",
            "--config",
            "voice-recordings:recordingRetentionDays=-3",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "voice-recordings:recordingRetentionDays must be a whole number of days >= 1" in (
        result.stderr
    )


def test_pulumi_main_imports_from_infra_and_validates_before_any_resource() -> None:
    # What the language host does with Pulumi's default main: run the project directory's
    # __main__.py with that directory as the working directory.
    result = subprocess.run(
        [sys.executable, "__main__.py"],
        cwd=REPOSITORY,
        env={
            "PULUMI_CONFIG": json.dumps(
                {"voice-recordings:endpoint": "h", "voice-recordings:bucketz": "x"}
            )
        },
        capture_output=True,
        text=True,
        check=False,
    )
    # Logged as an error, then the executor's "already told the user" exit code: the engine
    # shows the message alone (tests/engine/test_preview.py runs the real one).
    assert result.returncode == EXIT_AFTER_USER_MESSAGE
    assert "Traceback" not in result.stderr
    assert (
        "voice-recordings:bucketz is not a known config key: did you mean voice-recordings:bucket?"
    ) in result.stderr


def test_the_project_file() -> None:
    project = yaml.safe_load((REPOSITORY / "Pulumi.yaml").read_text())
    assert project["name"] == "voice-recordings"
    # No main: Pulumi's default, the project directory's __main__.py.
    assert "main" not in project
    assert (REPOSITORY / "__main__.py").is_file()
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": ".venv"}}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_hold_no_secret(stack: str) -> None:
    config = yaml.safe_load((REPOSITORY / f"Pulumi.{stack}.yaml").read_text())["config"]
    for key, value in config.items():
        lowered = key.lower()
        if any(word in lowered for word in ("password", "secret", "accesskey", "user")):
            assert isinstance(value, dict) and set(value) == {"secure"}, key


def test_the_runtime_package_never_imports_infra_or_pulumi() -> None:
    for path in (REPOSITORY / "voice_recordings").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"infra", "pulumi", "pulumi_minio"}, path


def test_the_cli_prints_the_snapshot_and_nothing_on_stderr() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.render", "--stack", "dev"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout == snapshot_path("dev").read_text(encoding="utf-8")


def test_aliases_import_and_ignore_changes_are_shown_when_set() -> None:
    """What the engine is told beyond the inputs appears in the render, so a diff shows it."""

    def program() -> None:
        bucket = minio.S3Bucket("recordings-bucket", bucket="b")
        minio.IlmPolicy(
            "renamed-lifecycle",
            bucket="b",
            rules=[minio.IlmPolicyRuleArgs(id="r", expiration="5d")],
            opts=pulumi.ResourceOptions(
                depends_on=[bucket],
                aliases=[pulumi.Alias(name="recordings-lifecycle")],
                ignore_changes=["rules"],
                import_="b",
            ),
        )

    resources = {
        r["name"]: r for r in run_program("dev", program_main=program).document()["resources"]
    }
    assert "aliases" not in resources["recordings-bucket"]
    assert "import" not in resources["recordings-bucket"]
    lifecycle = resources["renamed-lifecycle"]
    assert lifecycle["depends_on"] == ["recordings-bucket"]
    assert lifecycle["ignore_changes"] == ["rules"]
    assert lifecycle["import"] == "b"
    assert [alias.get("name") for alias in lifecycle["aliases"]] == ["recordings-lifecycle"]
