"""Reading the GitHub workflows: their files, jobs, steps, and each job's ``pulumi`` command.

One reading for the rules (tests/guardrails/test_workflows.py) and for the engine tests that run
each job's command as the workflow gives it (tests/engine/test_pipeline.py).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, Final

import yaml

from policies.guardrails.offline import RENDER_DIR

REPO = RENDER_DIR.parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions"
# The one script holding every job's pulumi commands; the workflows only call it.
PIPELINE_SCRIPT: Final = ".github/scripts/pulumi-job.sh"
GUARDRAIL_PACK: Final = "policies/guardrails"
_SECRET_VALUE_RE: Final = re.compile(r"^\$\{\{ secrets\.([A-Za-z0-9_]+) \}\}$")


def parse(text: str) -> dict[str, Any]:
    """A workflow's YAML, with ``on`` as the key YAML 1.1 reads as True."""
    loaded: dict[Any, Any] = yaml.safe_load(text)
    if True in loaded:
        loaded["on"] = loaded.pop(True)
    return {str(key): value for key, value in loaded.items()}


def committed() -> dict[str, str]:
    """Every committed workflow's text, by file name."""
    return {path.name: path.read_text() for path in sorted(WORKFLOWS.glob("*.yml"))}


def workflow(name: str) -> dict[str, Any]:
    """The committed workflow ``name`` (``preview.yml``), parsed."""
    return parse((WORKFLOWS / name).read_text())


def steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A job's steps."""
    found: list[dict[str, Any]] = job.get("steps", [])
    return found


def action(step: Mapping[str, Any]) -> str:
    """The action a step uses, without its ref (empty for a ``run:`` step)."""
    return str(step.get("uses", "")).split("@", 1)[0]


def pipeline_command(job: Mapping[str, Any]) -> list[str] | None:
    """The job's call of the pipeline script, as arguments (None when it makes none)."""
    calls = [
        shlex.split(str(s["run"]))
        for s in steps(job)
        if str(s.get("run", "")).startswith(PIPELINE_SCRIPT)
    ]
    if not calls:
        return None
    (call,) = calls
    return call


def job_env(job: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, str]:
    """The job's ``env:`` with each ``${{ secrets.NAME }}`` replaced by ``secrets[NAME]`` (a
    missing one is a KeyError: a job must not read what the caller did not give it)."""
    env: dict[str, str] = {}
    for name, value in (job.get("env") or {}).items():
        match = _SECRET_VALUE_RE.match(str(value))
        if match is None:
            raise ValueError(f"{name}: {value!r} is not a secret")
        env[str(name)] = secrets[match[1]]
    return env
