"""What the stack wants: its config and the parts of its offline render the survey compares.

Also what a bucket policy grants to anyone without a key, and the ``mc admin`` commands that show
the identities the stack will adopt or create (the survey cannot read MinIO's admin API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from infra import render_format
from infra.config import StackConfig, full_key, parse_stack_config
from infra.identities import READER, UPLOADER
from infra.mocked_run import run_program
from infra.project import REPOSITORY
from infra.stack_file import load_stack_config

DEFAULT_ALIAS: Final = "omniplay"  # the specification's `mc alias set omniplay ...`


@dataclass(frozen=True)
class Desired:
    """The parts of the stack's render the survey compares the server with."""

    stack: str
    config: StackConfig
    lifecycle_rule_ids: tuple[str, ...]
    bucket_policy: Mapping[str, Any] | None
    encryption: Mapping[str, Any] | None

    @classmethod
    def from_render(cls, stack: str, config: StackConfig, render: Mapping[str, Any]) -> Desired:
        """Read the desired state out of a render (the document of :func:`run_program`)."""

        def inputs(type_: str) -> Mapping[str, Any] | None:
            found = [r.get("inputs") or {} for r in render["resources"] if r["type"] == type_]
            return found[0] if found else None

        lifecycle = inputs(render_format.LIFECYCLE) or {}
        policy = inputs(render_format.BUCKET_POLICY)
        return cls(
            stack=stack,
            config=config,
            lifecycle_rule_ids=tuple(str(r.get("id", "")) for r in lifecycle.get("rules", [])),
            bucket_policy=policy.get("policy") if policy else None,
            encryption=inputs(render_format.ENCRYPTION),
        )


def desired_state(
    stack: str, overrides: Mapping[str, str] | None = None, project: Path = REPOSITORY
) -> Desired:
    """The stack's desired state: its config (the stack file of ``project``) validated, and the
    program rendered offline."""
    raw = load_stack_config(stack, overrides, project)
    config = parse_stack_config(raw)
    program = run_program(stack, overrides, project=project)
    return Desired.from_render(stack, config, program.document())


def anonymous_grants(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The Allow statements of a bucket policy that apply to anyone without a key.

    A principal of ``"*"``, ``{"AWS": "*"}`` or ``{"AWS": ["*"]}`` is anonymous. Each grant is
    ``{"actions": [...], "resources": [...], "conditional": bool}``.
    """
    grants = []
    statements = (policy or {}).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        values = principal.get("AWS") if isinstance(principal, dict) else principal
        if "*" not in (values if isinstance(values, list) else [values]):
            continue
        actions, resources = statement.get("Action", []), statement.get("Resource", [])
        grants.append(
            {
                "actions": sorted(actions if isinstance(actions, list) else [actions]),
                "resources": sorted(resources if isinstance(resources, list) else [resources]),
                "conditional": bool(statement.get("Condition")),
            }
        )
    return grants


def grant_pairs(grants: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (action, resource) pairs of :func:`anonymous_grants`' result, to compare two policies."""
    return {(a, r) for g in grants for a in g["actions"] for r in g["resources"]}


def describe_grants(pairs: set[tuple[str, str]]) -> str:
    """``pairs`` for a person: ``action on resource, resource; ...``."""
    by_action: dict[str, list[str]] = {}
    for action, resource in sorted(pairs):
        by_action.setdefault(action, []).append(resource)
    return "; ".join(f"{a} on {', '.join(r)}" for a, r in by_action.items())


def identity_commands(config: StackConfig, alias: str = DEFAULT_ALIAS) -> list[dict[str, str]]:
    """The ``mc admin`` commands that show the identities the stack will adopt or create."""
    uploader, reader = config.identity(UPLOADER), config.identity(READER)
    commands = [
        {
            "command": f"mc admin user info {alias} {uploader.user}",
            "expect": (
                f"the user exists, enabled, with policy {uploader.policy}: adopted (its "
                f"password is kept)"
                if config.adopt_existing
                else "no such user: `pulumi up` creates it (an existing user's password would be "
                "overwritten: set adoptExisting)"
            ),
        },
        {
            "command": f"mc admin policy info {alias} {uploader.policy}",
            "expect": (
                "the hand-made document: `pulumi up` replaces it with "
                "policies/voice-ai-uploader.json (adds s3:PutObjectTagging, which tagged "
                "uploads need, and s3:AbortMultipartUpload for an upload cut short)"
                if config.adopt_existing
                else "no such policy: `pulumi up` creates it"
            ),
        },
        {
            "command": f"mc admin user svcacct ls {alias} {uploader.user}",
            "expect": (
                "the console's account (description voice-ai-realtime): its access key is "
                f"{full_key('adoptServiceAccount')}"
            ),
        },
    ]
    if config.adopt_service_account:
        commands.append(
            {
                "command": (f"mc admin user svcacct info {alias} {config.adopt_service_account}"),
                "expect": f"parent user {uploader.user}, status on: adopted as is",
            }
        )
    if config.omniplay_reader:
        commands += [
            {
                "command": f"mc admin user info {alias} {reader.user}",
                "expect": "no such user: `pulumi up` creates it (the provider would overwrite an "
                "existing user's password)",
            },
            {
                "command": f"mc admin policy info {alias} {reader.policy}",
                "expect": "no such policy: `pulumi up` creates it (the provider would overwrite "
                "an existing one)",
            },
        ]
    return commands
