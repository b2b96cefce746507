"""The run: check the render, order its resources as the engine would, apply them one by one.

The first failure stops the run and names the resource (:class:`ApplyError`); nothing after it
is applied. Also ``pulumi up --replace`` of one resource (:func:`replace`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from devtools.provision.adopt import IMPORTERS
from devtools.provision.create import HANDLERS
from devtools.provision.model import (
    APPLY_ORDER,
    ApplyError,
    ProvisionedStack,
    ProvisionError,
    State,
)
from infra.provider_contract import check_render

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

    from devtools.embedded_s3 import EmbeddedS3


def _apply(state: State, resource: Mapping[str, Any]) -> None:
    """Create ``resource``, or import it when the render says ``import``."""
    type_, name, inputs = resource["type"], resource["name"], resource.get("inputs") or {}
    import_id = resource.get("import")
    if not import_id:
        HANDLERS[type_](state, name, inputs)
        return
    if type_ not in IMPORTERS:
        raise ProvisionError(f"{type_} {name!r}: importing this type is not supported here")
    IMPORTERS[type_](
        state, name, import_id, inputs, frozenset(resource.get("ignore_changes") or ())
    )
    state.imported[name] = import_id


def load_render(path: Path | str) -> dict[str, Any]:
    """A render from its JSON file (``policies/rendered/<stack>.json``)."""
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return document


def plan(
    render: Mapping[str, Any], tie_break: Sequence[str] = APPLY_ORDER
) -> list[Mapping[str, Any]]:
    """The render's resources in the order they are applied; an unknown type is an error.

    Each resource comes after every resource its ``depends_on`` names (the engine's order);
    among the ready ones, the type that comes first in ``tie_break`` first, then render order.
    The engine runs ready resources in parallel, in no promised order: tests pass another
    ``tie_break`` to play an order the engine may pick. A ``depends_on`` naming no resource of
    the render, or a cycle, is an error.
    """
    resources: list[Mapping[str, Any]] = list(render["resources"])
    unknown = sorted({r["type"] for r in resources} - set(HANDLERS))
    if unknown:
        raise ProvisionError(
            f"the render has resource types the provisioner does not know: {unknown}; add a "
            f"handler to HANDLERS in devtools/provision/create.py"
        )
    rank: dict[str, int] = {}
    for index, type_ in enumerate(tie_break):
        rank.setdefault(type_, index)  # the first mention counts
    names = {r["name"] for r in resources}
    waits: dict[int, set[str]] = {}
    for index, resource in enumerate(resources):
        needs = set(resource.get("depends_on") or [])
        missing = sorted(needs - names)
        if missing:
            raise ProvisionError(
                f"{resource['type']} {resource['name']!r} depends on {missing}, which the render "
                f"does not have"
            )
        waits[index] = needs
    ordered: list[Mapping[str, Any]] = []
    done: set[str] = set()
    pending = list(range(len(resources)))
    while pending:
        ready = [i for i in pending if waits[i] <= done]
        if not ready:
            stuck = sorted(resources[i]["name"] for i in pending)
            raise ProvisionError(f"the render's depends_on has a cycle among {stuck}")
        chosen = min(ready, key=lambda i: (rank.get(resources[i]["type"], len(rank)), i))
        pending.remove(chosen)
        ordered.append(resources[chosen])
        # A name may be shared by resources of different types: done when all of them are.
        if all(r["name"] != resources[chosen]["name"] for r in (resources[i] for i in pending)):
            done.add(resources[chosen]["name"])
    return ordered


def provision(
    render: Mapping[str, Any],
    s3: S3Client,
    iam: IAMClient,
    region: str = "us-east-1",
    tie_break: Sequence[str] = APPLY_ORDER,
) -> ProvisionedStack:
    """Create what ``render`` describes, with the endpoint admin's ``s3`` and ``iam`` clients.

    ``tie_break``: see :func:`plan`. Raises :class:`ApplyError` at the first resource that fails.
    """
    # Like the provider's Check: an input it refuses fails the run before anything is made.
    refused = check_render(render)
    if refused:
        raise ProvisionError(f"the provider would refuse the render: {'; '.join(refused)}")
    state = State(s3=s3, iam=iam, region=region)
    ordered = plan(render, tie_break)  # checks every type and dependency before anything is made
    applied: list[str] = []
    for resource in ordered:
        label = f"{resource['type'].rsplit(':', 1)[-1]} {resource['name']!r}"
        try:
            _apply(state, resource)
        except (ProvisionError, ClientError) as exc:
            # Like the engine: the first failure ends the run; nothing after it is applied.
            raise ApplyError(label, str(exc), applied) from exc
        applied.append(label)
    return ProvisionedStack(
        stack=str(render.get("stack", "")),
        buckets=tuple(state.buckets),
        service_accounts=dict(state.keys),
        service_account_users=dict(state.key_users),
        users=tuple(state.users),
        policies=tuple(state.policy_arns),
        public_bucket_policy=state.public_bucket_policy,
        admin_grants=dict(state.admin_grants),
        resource_counts=dict(Counter(r["type"] for r in ordered)),
        imported=dict(state.imported),
        imported_service_accounts=dict(state.imported_keys),
    )


def replace(
    render: Mapping[str, Any], name: str, s3: S3Client, iam: IAMClient, region: str = "us-east-1"
) -> ProvisionedStack:
    """``pulumi up --replace <name>`` of an otherwise unchanged stack: create that one resource
    anew from ``render`` (for a service account: new keys for its user). The old one is not
    deleted here: the adopted console account is retained on delete, and removed by hand."""
    chosen = [r for r in render["resources"] if r["name"] == name]
    if len(chosen) != 1:
        raise ProvisionError(
            f"expected one resource named {name!r} in the render, got {len(chosen)}"
        )
    if chosen[0].get("import"):
        raise ProvisionError(
            f"{name!r} still has import {chosen[0]['import']!r}: unset the adoption of it first "
            f"(a replace would import the old one again)"
        )
    # What it depends on is already on the server (the stack is otherwise unchanged).
    alone = [{**chosen[0], "depends_on": []}]
    return provision({**render, "resources": alone}, s3, iam, region)


def provision_embedded(endpoint: EmbeddedS3, render: Mapping[str, Any]) -> ProvisionedStack:
    """:func:`provision` on an :class:`~devtools.embedded_s3.EmbeddedS3`, as its admin."""
    return provision(render, endpoint.s3(), endpoint.iam(), endpoint.region)
