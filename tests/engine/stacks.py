"""Reading what the engine printed (``pulumi preview --json``, ``pulumi stack export``) and what
the server holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from botocore.exceptions import ClientError

from devtools.endpoint.clients import ServedEndpoint
from devtools.providers.properties import UNKNOWN
from infra import render_format
from policies.guardrails.analyzer import is_internal_key


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


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _parent(urn: str) -> str | None:
    return None if not urn or f"::{render_format.STACK}::" in urn else _name(urn)


def _comparable_input(value: Any) -> Any:
    # The render shows a policy document parsed; the engine holds the JSON string the SDK sent.
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _without_internal_keys(value: Any) -> Any:
    # The bridge's Check writes `__defaults` into every object it converts, nested ones too,
    # and the engine keeps it in the state's inputs: bookkeeping, not an input.
    if isinstance(value, Mapping):
        return {k: _without_internal_keys(v) for k, v in value.items() if not is_internal_key(k)}
    if isinstance(value, list):
        return [_without_internal_keys(item) for item in value]
    return value


def registered_differences(
    render: Mapping[str, Any], preview: Mapping[str, Any], defaults: Mapping[str, Any]
) -> list[str]:
    """Every way the engine's registered resources (``preview --json``'s new states) differ from
    the render, as ``resource.field: render X, engine Y``. ``defaults``: type -> the inputs the
    provider's Check fills in (the render shows what the program sets, the engine what Check
    returned); the engine's and the bridge's bookkeeping (``version``, ``__``-keys at any depth)
    are not inputs."""
    engine = {
        _name(step["urn"]): step["newState"]
        for step in preview["steps"]
        if step.get("newState") and step["newState"]["type"] != render_format.STACK
    }
    found: list[str] = []
    rendered = {r["name"]: r for r in render["resources"]}
    for name in sorted(set(engine) ^ set(rendered)):
        found.append(f"{name}: only in the {'engine' if name in engine else 'render'}")
    for name in sorted(set(engine) & set(rendered)):
        want, got = rendered[name], engine[name]
        type_defaults = defaults.get(want["type"], {})
        inputs = {
            key: _comparable_input(value)
            for key, value in _without_internal_keys(got.get("inputs", {})).items()
            if key != "version"
            and not (key not in want["inputs"] and type_defaults.get(key, _ABSENT) == value)
        }
        expected = {
            key: UNKNOWN_OR_SECRET if value == render_format.SECRET_MARKER else value
            for key, value in want["inputs"].items()
        }
        for key in sorted(set(inputs) | set(expected)):
            if expected.get(key) == UNKNOWN_OR_SECRET and inputs.get(key) in SECRET_OR_UNKNOWN:
                continue
            if expected.get(key, _ABSENT) != inputs.get(key, _ABSENT):
                found.append(
                    f"{name}.inputs.{key}: render {expected.get(key, '(unset)')!r}, engine "
                    f"{inputs.get(key, '(unset)')!r}"
                )
        options = {
            "type": (want["type"], got["type"]),
            # The render's None is the stack itself, the root every resource hangs from.
            "parent": (want["parent"], _parent(got.get("parent", ""))),
            "protect": (want["protect"], bool(got.get("protect"))),
            "retain_on_delete": (want["retain_on_delete"], bool(got.get("retainOnDelete"))),
            "ignore_changes": (
                sorted(want["ignore_changes"]),
                sorted(got.get("ignoreChanges", [])),
            ),
            "import": (want.get("import", ""), got.get("importID", "")),
            "aliases": (len(want.get("aliases", [])), len(got.get("aliases", []))),
        }
        for option, (mine, theirs) in options.items():
            if mine != theirs:
                found.append(f"{name}.{option}: render {mine!r}, engine {theirs!r}")
        # depends_on: what the program asked for; the engine's dependencies add what an input
        # refers to (an Output of another resource), so each must be one or the other.
        depends = {_name(urn) for urn in got.get("dependencies", [])}
        missing = set(want["depends_on"]) - depends
        if missing:
            found.append(f"{name}.depends_on: {sorted(missing)} not registered by the engine")
        implicit = {
            _name(urn) for urns in (got.get("propertyDependencies") or {}).values() for urn in urns
        }
        unexplained = depends - set(want["depends_on"]) - implicit
        if unexplained:
            found.append(f"{name}.depends_on: the engine adds {sorted(unexplained)}")
    return found


_ABSENT: Final = object()
UNKNOWN_OR_SECRET: Final = "<secret>"
SECRET_OR_UNKNOWN: Final = (render_format.SECRET_MARKER, UNKNOWN)


def server_snapshot(endpoint: ServedEndpoint, bucket: str = "voice-recordings") -> dict[str, Any]:
    """What the stack manages on the server, read as the endpoint's admin: the buckets, the
    bucket's versioning, lifecycle and policy, every user with its keys and attached policies,
    every policy's document. Equal snapshots before and after a run: the run changed nothing."""
    s3, iam = endpoint.s3(), endpoint.iam()
    snapshot: dict[str, Any] = {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
    }
    try:
        snapshot["lifecycle"] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError:
        snapshot["lifecycle"] = None
    try:
        snapshot["bucket_policy"] = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError:
        snapshot["bucket_policy"] = None
    snapshot["users"] = {
        user["UserName"]: {
            "keys": sorted(
                k["AccessKeyId"]
                for k in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]
            ),
            "policies": sorted(
                p["PolicyName"]
                for p in iam.list_attached_user_policies(UserName=user["UserName"])[
                    "AttachedPolicies"
                ]
            ),
        }
        for user in iam.list_users()["Users"]
    }
    policies = iam.list_policies(Scope="Local")["Policies"]
    snapshot["policies"] = {
        p["PolicyName"]: iam.get_policy_version(
            PolicyArn=p["Arn"], VersionId=p["DefaultVersionId"]
        )["PolicyVersion"]["Document"]
        for p in policies
    }
    return snapshot
