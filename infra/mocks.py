"""Pulumi's engine stood in for by mocks that keep every registration as the engine would get it.

:class:`Mocks` echoes a resource's inputs as its outputs and invents a fresh random secret for
what a provider would generate; :class:`RecordingMonitor` keeps each registration request (type,
logical name, parent, ``protect``, ``retainOnDelete``, wire-format inputs) as a
:class:`ResourceRecord`, its inputs masked: a secret by Pulumi's own secret marker on the wire
(``Output.secret``, pulumi-random results, the provider's credentials) becomes ``"[secret]"``, a
policy document a parsed JSON object. The wire's markers are the Python SDK's own
(``pulumi.runtime.rpc``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
from google.protobuf import json_format  # type: ignore[import-untyped]
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import alias_pb2, resource_pb2
from pulumi.runtime.rpc import (
    UNKNOWN,
    _special_resource_sig,
    _special_secret_sig,
    _special_sig_key,
)

from infra.render_format import (
    OPTIONAL_RESOURCE_FIELDS,
    POLICY_INPUT,
    RANDOM_PASSWORD,
    RESOURCE_FIELDS,
    SECRET_MARKER,
    SERVICE_ACCOUNT,
    STACK,
)

# Resource outputs the mocks must invent, by type: each is a fresh random secret per run.
_GENERATED_OUTPUTS: Final[dict[str, tuple[str, ...]]] = {
    RANDOM_PASSWORD: ("result", "bcryptHash"),
    SERVICE_ACCOUNT: ("accessKey", "secretKey"),
}


@dataclass
class ResourceRecord:
    """One resource registration as the engine received it (inputs already masked)."""

    type: str
    name: str
    urn: str
    parent: str | None
    protect: bool
    retain_on_delete: bool
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    ignore_changes: list[str] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    import_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The resource in the render's format.

        Beside the inputs, what the engine is told about ordering and lifetime: ``depends_on``
        (logical names of every resource it waits for), ``ignore_changes``, and, only when set,
        ``aliases`` and ``import``, so a reviewer sees them in the diff and guardrails check them.
        """
        values = (
            self.type,
            self.name,
            self.parent,
            self.protect,
            self.retain_on_delete,
            self.dependencies,
            self.ignore_changes,
            self.inputs,
        )
        document: dict[str, Any] = dict(zip(RESOURCE_FIELDS, values, strict=True))
        for name, value in zip(
            OPTIONAL_RESOURCE_FIELDS, (self.aliases, self.import_id), strict=True
        ):
            if value:
                document[name] = value
        return document


class Mocks(pulumi_mocks.Mocks):
    """Echo inputs as outputs and invent random secrets for what a provider would generate."""

    def __init__(self) -> None:
        self.generated: set[str] = set()

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        for name in _GENERATED_OUTPUTS.get(args.typ, ()):
            outputs[name] = self.secret()
        return f"{args.name}-id", outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None

    def secret(self) -> str:
        """A fresh random value, remembered so the render can prove it never leaks."""
        value = secrets.token_hex(20)
        self.generated.add(value)
        return value


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _mask(value: Any) -> Any:
    """Wire value (from the protobuf Struct as a dict) -> plain JSON, secrets as "[secret]"."""
    if isinstance(value, dict):
        sig = value.get(_special_sig_key)
        if sig == _special_secret_sig:
            return SECRET_MARKER
        if sig == _special_resource_sig:
            return {"resource": _urn_name(str(value.get("urn", "")))}
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct numbers are doubles; the program sent integers
    if value == UNKNOWN:
        raise RuntimeError("an input is unknown under mocks: the render needs known values")
    return value


def _parse_policy(inputs: dict[str, Any]) -> dict[str, Any]:
    document = inputs.get(POLICY_INPUT)
    if isinstance(document, str) and document != SECRET_MARKER:
        return {**inputs, POLICY_INPUT: json.loads(document)}
    return inputs


def _alias(alias: alias_pb2.Alias) -> dict[str, Any]:
    """One alias as the engine gets it: a full URN, or a spec (name, type, parent ...)."""
    if alias.urn:
        return {"urn": alias.urn}
    spec: dict[str, Any] = json_format.MessageToDict(alias.spec)
    if "parentUrn" in spec:
        spec["parent"] = _urn_name(spec.pop("parentUrn"))
    return spec


def _stack_name() -> str:
    return f"{pulumi.get_project()}-{pulumi.get_stack()}"


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, keeping each registration request as the engine would receive it."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []

    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != STACK:
            wire = json_format.MessageToDict(request.object)
            parent = request.parent
            parent_is_stack = not parent or parent.endswith("::" + _stack_name())
            self.records.append(
                ResourceRecord(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=None if parent_is_stack else _urn_name(parent),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider or None,
                    dependencies=sorted({_urn_name(d) for d in request.dependencies}),
                    inputs=_parse_policy(_mask(wire)),
                    ignore_changes=sorted(request.ignoreChanges),
                    aliases=[_alias(alias) for alias in request.aliases],
                    import_id=request.importId,
                )
            )
        return response
