"""``pulumi preview`` by the real engine: the program starts under the real language host, the
engine registers what the render shows, and a bad stack config fails with one line."""

from __future__ import annotations

import platform

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.engine.pulumi_cli import pinned_version
from devtools.engine.workspace import (
    EngineWorkspace,
    embedded_stack_config,
)
from infra import render_format
from infra.config import full_key
from infra.render import render_stack
from tests.engine.stacks import render_resources, step_resources

STACKS = ("dev", "prod")


@pytest.fixture(scope="module")
def stacks(workspace: EngineWorkspace, endpoint: EmbeddedS3) -> EngineWorkspace:
    """``dev`` and ``prod`` from their stack files, pointed at the endpoint."""
    for stack in STACKS:
        workspace.init_stack(stack, embedded_stack_config(endpoint))
    return workspace


def test_the_engine_that_runs_is_the_pinned_one(stacks: EngineWorkspace) -> None:
    assert stacks.run("version").stdout.strip() == pinned_version()
    about = stacks.run("about", "-s", "dev", "--json", check=False)
    assert pinned_version().lstrip("v") in about.stdout
    # The language host's About: the project's interpreter and its version.
    runtime = about.json()["runtime"]
    assert runtime["executable"] == str(stacks.project / ".venv" / "bin" / "python")
    assert runtime["version"] == platform.python_version()


@pytest.mark.parametrize("stack", STACKS)
def test_preview_registers_what_the_render_shows(
    stacks: EngineWorkspace, endpoint: EmbeddedS3, stack: str
) -> None:
    preview = stacks.run("preview", "-s", stack, "--json").json()
    engine = [r for r in step_resources(preview) if r[0] != render_format.STACK]
    render = render_resources(render_stack(stack, embedded_stack_config(endpoint)))
    assert engine == render
    assert {step["op"] for step in preview["steps"]} == {"create"}


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("recordingRetentionDay", "30", "voice-recordings:recordingRetentionDay is not a known"),
        ("recordingRetentionDays", "-3", "voice-recordings:recordingRetentionDays must be"),
        ("companyRetention", '{"0": {"voice": 30}}', "voice-recordings:companyRetention.0:"),
        ("companyRetention", '{"42": {"voice": -3}}', "voice-recordings:companyRetention.42.voice"),
    ],
)
def test_a_stack_config_error_fails_the_preview_with_one_line_naming_the_key(
    stacks: EngineWorkspace, key: str, value: str, named: str
) -> None:
    before = stacks.run("config", "get", "-s", "dev", full_key(key), check=False)
    stacks.run("config", "set", "-s", "dev", full_key(key), "--", value)
    try:
        result = stacks.run("preview", "-s", "dev", check=False)
    finally:
        if before.returncode == 0:
            stacks.run("config", "set", "-s", "dev", full_key(key), "--", before.stdout.strip())
        else:
            stacks.run("config", "rm", "-s", "dev", full_key(key))
    assert result.returncode != 0
    errors = [
        line.strip() for line in result.output.splitlines() if line.strip().startswith("error:")
    ]
    assert len(set(errors)) == 1, result.output
    assert named in errors[0]
    assert "Traceback" not in result.output
