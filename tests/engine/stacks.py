"""Reading what the engine printed (``pulumi preview --json``, ``pulumi stack export``) and what
the server holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from devtools.embedded_s3 import EmbeddedS3


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


def server_snapshot(endpoint: EmbeddedS3, bucket: str = "voice-recordings") -> dict[str, Any]:
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
