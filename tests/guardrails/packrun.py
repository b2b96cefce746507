"""Run the policy pack's own validation functions on a render, the way the analyzer calls them.

Each resource becomes real pulumi-policy argument objects; its props look like preview's: policy
documents as JSON strings, wrapped in the SDK's unknown-checking proxy.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policies.guardrails import model, pack
from tests.guardrails.renders import Render


def preview_props(resource: dict[str, Any]) -> Any:
    """The render's inputs as preview hands them to a policy (documents as JSON strings)."""
    props = dict(resource["inputs"])
    if isinstance(props.get("policy"), dict):
        props["policy"] = json.dumps(props["policy"])
    return unknown_checking_proxy(props)


def options(resource: dict[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        bool(resource["protect"]), [], None, [], PolicyCustomTimeouts(0, 0, 0), []
    )


def resource_args(resource: dict[str, Any]) -> ResourceValidationArgs:
    urn = f"urn:pulumi:prod::voice-recordings::{resource['type']}::{resource['name']}"
    return ResourceValidationArgs(
        resource["type"], preview_props(resource), urn, resource["name"], options(resource), None
    )


def stack_args(render: Render) -> StackValidationArgs:
    # Like the engine: each resource's dependencies are the resources themselves.
    by_name = {
        r["name"]: PolicyResource(
            r["type"],
            preview_props(r),
            f"urn:{r['name']}",
            r["name"],
            options(r),
            None,
            None,
            [],
            {},
        )
        for r in render["resources"]
    }
    for r in render["resources"]:
        # (A mutation may have removed a resource others named: the engine would refuse that.)
        needs = [d for d in r.get("depends_on", []) if d in by_name]
        by_name[r["name"]].dependencies = [by_name[d] for d in needs]
    return StackValidationArgs(list(by_name.values()))


def pack_violations(render: Render) -> set[tuple[str, str]]:
    """(policy name, message) for every violation the pack's policies report on ``render``."""
    ctx = model.StackContext.from_config(render["config"])
    reported: set[tuple[str, str]] = set()
    for policy in pack.policies(lambda: ctx):

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            reported.add((name, message))

        if isinstance(policy, ResourceValidationPolicy):
            for resource in render["resources"]:
                policy.validate(resource_args(resource), report)
        else:
            assert isinstance(policy, StackValidationPolicy)
            policy.validate(stack_args(render), report)
    return reported
