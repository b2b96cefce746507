"""What the engine tests share: test stacks, and reading ``pulumi preview --json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devtools.embedded_s3 import EmbeddedS3
from devtools.handmade import stack_config_for
from infra.config import full_key
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV


def admin_env(endpoint: EmbeddedS3) -> dict[str, str]:
    """The deploying job's environment: the endpoint admin as the provider's credentials."""
    return {
        ADMIN_USER_ENV: endpoint.admin.access_key,
        ADMIN_PASSWORD_ENV: endpoint.admin.secret_key,
    }


def embedded_stack_config(endpoint: EmbeddedS3) -> dict[str, str]:
    """A stack file's config pointed at ``endpoint``, through the stack's own keys."""
    return {**stack_config_for(endpoint), full_key("publicUrl"): endpoint.endpoint_url}


def step_resources(preview: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of every resource the engine registered in a ``preview --json``."""
    found = []
    for step in preview["steps"]:
        state = step.get("newState") or step.get("oldState") or {}
        found.append((state["type"], step["urn"].rsplit("::", 1)[-1]))
    return sorted(found)


def render_resources(render: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of every resource of a render (``python -m infra.render``)."""
    return sorted((r["type"], r["name"]) for r in render["resources"])


def changes(preview: Mapping[str, Any]) -> list[str]:
    """Every step that is not "same", as ``op resource: inputs that differ``."""
    found = []
    for step in preview["steps"]:
        if step["op"] == "same":
            continue
        name = step["urn"].rsplit("::", 1)[-1]
        diffs = step.get("diffs") or sorted((step.get("detailedDiff") or {}).keys())
        found.append(f"{step['op']} {name}: {', '.join(diffs) or '(no input named)'}")
    return found


def parse_dotenv(text: str) -> dict[str, str]:
    """A ``.env`` block (``NAME=value`` lines, ``#`` comments) as a mapping."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)
