"""What the engine's analyzer hands a policy pack, and how both runners read that one shape.

Recorded under the real engine (``tests/engine/test_policy_pack.py`` records the requests of a
``pulumi preview --policy-pack``; docs/operating.md, "The guardrail rules", lists the facts):

- ``Analyze`` (one request per resource; the resource rules): ``properties`` are the inputs
  *after the provider's Check*, so its defaults are filled in (a bucket's ``acl: "private"``,
  ``forceDestroy: false``, ``objectLocking: false``), and a provider's inputs carry the plugin's
  ``version``. The engine's default providers (``default_4_21_4``) and the stack itself
  (``pulumi:pulumi:Stack``) come as resources too.
- ``AnalyzeStack`` (once; the stack rules): every resource with its *outputs* (preview leaves the
  computed ones unknown), its ``parent``, ``dependencies`` (URNs) and ``propertyDependencies``.
- ``options``: ``protect`` (absent when false), ``ignoreChanges``, ``additionalSecretOutputs``,
  ``customTimeouts``, ``parent``, ``deleteBeforeReplace``, ``aliases``. Not ``retainOnDelete``
  and not ``dependsOn``: the protocol has no field for them.
- A secret is ``{SIG: SECRET_SIG, "value": <plaintext>}``; a value preview cannot know is the
  string :data:`WIRE_UNKNOWN`; a policy document is a JSON string; numbers are doubles.
- Over the real pulumi-terraform-bridge, every object of ``properties`` also carries the bridge's
  ``"__defaults": []`` (nested blocks too: the engine drops internal keys only at the top level),
  and a preview's planned state leaves each computed-only value unknown, nested ones included (a
  new lifecycle rule's ``status``).

:func:`inputs_of` is the one place both runners turn a resource's wire properties into what the
rules read (the rules' view): secrets masked, internal keys gone at any depth, unknowns as
:data:`model.UNKNOWN` except an unknown computed-only value, which is left out as the render
leaves it, and integral doubles as ints.

A :class:`Requests` holds the two kinds of request; :func:`check_requests` runs the rules over it,
resource rules on ``Analyze``, stack rules on ``AnalyzeStack``, as the pack does. The offline
runner turns a render into the same shape (:func:`requests_of_render`) before it reads it, so
``make guard`` reads what the engine hands the pack: the provider's defaults filled in from
``infra/provider_contract.py``, policy documents as JSON strings, dependencies as URNs. The one
thing a render carries beyond the protocol is ``retainOnDelete`` in ``options``; from the engine
it is absent, and ``bucket-protected`` then checks ``protect`` and ``forceDestroy`` only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

from infra.config import parse_stack_config
from infra.provider_contract import CONTRACTS, Attribute, check_defaults
from infra.render_format import CONFIG_NAMESPACE, POLICY_INPUT, SECRET_MARKER
from policies.guardrails.model import UNKNOWN, Resource, StackContext, Violation
from policies.guardrails.rules import check_all

# On the wire an unknown is this one string, whatever the type (pulumi.runtime.rpc.UNKNOWN).
WIRE_UNKNOWN: Final = UNKNOWN_STRING_VALUE
# Every sentinel pulumi-policy treats as unknown (pulumi_policy/proxy.py, _is_unknown): the engine
# sends the string one, a policy's own proxies may hold any of them.
UNKNOWN_SENTINELS: Final = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)
# pulumi sdk/go/common/resource/properties.go (IsInternalPropertyKey): a key starting with "__" is
# the engine's or a provider's own bookkeeping (the bridge's "__defaults" and "__meta"), never an
# input. The engine drops them only at the top level (pkg/resource/plugin/rpc.go).
INTERNAL_KEY_PREFIX: Final = "__"
# Not in the analyzer protocol: only a render's resources carry it (in ``options``).
RETAIN_ON_DELETE: Final = "retainOnDelete"
# A recording's fields (the JSON the tests write, ``make guard`` reads).
ANALYZE: Final = "analyze"
ANALYZE_STACK: Final = "analyzeStack"
CONFIG: Final = "config"


@dataclass(frozen=True)
class Requests:
    """What the analyzer was handed in one preview: each ``Analyze`` request's resource, the
    ``AnalyzeStack`` request's resources, and the stack's ``voice-recordings:*`` config (raw,
    as PULUMI_CONFIG carries it)."""

    analyze: Sequence[Mapping[str, Any]]
    analyze_stack: Sequence[Mapping[str, Any]]
    config: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The recording as JSON (what ``python -m policies.guardrails.offline`` reads)."""
        return {
            ANALYZE: list(self.analyze),
            ANALYZE_STACK: list(self.analyze_stack),
            CONFIG: dict(self.config),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Requests:
        """A recording read back (KeyError/TypeError when it is not one)."""
        return cls(list(data[ANALYZE]), list(data[ANALYZE_STACK]), dict(data.get(CONFIG) or {}))


def is_recording(data: Mapping[str, Any]) -> bool:
    """True when ``data`` is a recording of the analyzer's requests, not a render."""
    return ANALYZE_STACK in data


def mask_secret_values(wire: Any) -> Any:
    """Every secret-marked value of the wire format as ``"[secret]"``, never its plaintext."""
    if isinstance(wire, dict):
        if wire.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return SECRET_MARKER
        return {key: mask_secret_values(value) for key, value in wire.items()}
    if isinstance(wire, list):
        return [mask_secret_values(item) for item in wire]
    return wire


def is_internal_key(key: str) -> bool:
    """True for a key that is the engine's or a provider's own, not an input (any depth)."""
    return key.startswith(INTERNAL_KEY_PREFIX)


def _plain(wire: Any) -> Any:
    """Wire values as the rules read them: unknowns as UNKNOWN, internal keys gone, an integral
    double (google.protobuf.Struct has no integers) as the int the program wrote."""
    if isinstance(wire, str) and wire in UNKNOWN_SENTINELS:
        return UNKNOWN
    if isinstance(wire, float) and wire.is_integer():
        return int(wire)
    if isinstance(wire, Mapping):
        return {k: _plain(v) for k, v in wire.items() if not is_internal_key(k)}
    if isinstance(wire, list | tuple):
        return [_plain(item) for item in wire]
    return wire


def _declared(value: Any, attributes: Mapping[str, Attribute]) -> Any:
    """``value`` (an object of ``attributes``, or a list of them) without the computed-only
    attributes a preview leaves unknown, at any depth: the provider computes them (a new
    lifecycle rule's ``status``, which minioCreateILMPolicy always writes "Enabled"), the
    program cannot declare them, so the rules judge the object as the render has it."""
    if isinstance(value, list):
        return [_declared(item, attributes) for item in value]
    if not isinstance(value, Mapping):
        return value
    declared = {}
    for key, item in value.items():
        attribute = attributes.get(key)
        if attribute is None:
            declared[key] = item
        elif not (attribute.mode == "computed" and item is UNKNOWN):
            declared[key] = _declared(item, attribute.block or {})
    return declared


def inputs_of(type_token: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The rules' view of a resource's wire properties, the one normalisation both runners use:
    secrets as ``"[secret]"``, internal ``__`` keys dropped at any depth, unknowns as
    :data:`model.UNKNOWN` (an unknown computed-only attribute of ``infra/provider_contract.py``
    left out, nested ones too), integral doubles as ints."""
    contract = CONTRACTS.get(type_token)
    plain = _plain(mask_secret_values(dict(properties)))
    return dict(_declared(plain, contract.attributes if contract else {}))


def name_of(urn: str) -> str:
    """A resource's logical name, the last part of its URN."""
    return urn.rsplit("::", 1)[-1]


def resource_of(wire: Mapping[str, Any], *, stack: bool) -> Resource:
    """The rules' view of one resource of a request (``stack``: of ``AnalyzeStack``, which
    carries dependencies; ``Analyze`` carries none, so they are unknown)."""
    options = wire.get("options") or {}
    retain = options.get(RETAIN_ON_DELETE)
    return Resource(
        type=wire["type"],
        name=wire["name"],
        inputs=inputs_of(wire["type"], wire.get("properties") or {}),
        protect=bool(options.get("protect", False)),
        retain_on_delete=None if retain is None else bool(retain),
        depends_on=tuple(name_of(u) for u in wire.get("dependencies") or ()) if stack else None,
    )


def project_config(raw_config: Mapping[str, Any]) -> dict[str, str]:
    """This project's keys of the stack config the engine hands every pack (PULUMI_CONFIG), as
    strings: provider secrets in the same config never get past here."""
    return {k: str(v) for k, v in raw_config.items() if k.startswith(f"{CONFIG_NAMESPACE}:")}


def stack_context(raw_config: Mapping[str, Any]) -> StackContext:
    """The rules' context from the stack config the engine hands every pack, validated by the
    program's own ``infra.config`` with its defaults."""
    return StackContext.of(parse_stack_config(project_config(raw_config)))


def check_requests(requests: Requests, ctx: StackContext | None = None) -> list[Violation]:
    """Every violation, as the pack finds them: resource rules on each ``Analyze`` resource,
    stack rules on the ``AnalyzeStack`` resources (``ctx``: default, from the recorded config)."""
    context = ctx if ctx is not None else stack_context(requests.config)
    return check_all(
        [resource_of(r, stack=False) for r in requests.analyze],
        context,
        stack_resources=[resource_of(r, stack=True) for r in requests.analyze_stack],
    )


# --- a render in the analyzer's shape -----------------------------------------------------------


def checked_inputs(type_token: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` as the provider's Check returns them: every unset input with a schema default
    the bridge fills in (:func:`infra.provider_contract.check_defaults`), a policy document as
    the JSON string the SDK sends."""
    checked = {k: v for k, v in check_defaults(type_token).items() if k not in inputs}
    for key, value in inputs.items():
        document = key == POLICY_INPUT and isinstance(value, Mapping)
        checked[key] = json.dumps(value, sort_keys=True) if document else value
    return checked


class RenderFormatError(ValueError):
    """A render that is not in the render format (the message says where and what)."""


def _render_option(item: Mapping[str, Any], name: str) -> bool:
    """A resource option of a render: a JSON boolean, or absent (false). Anything else is not
    the render format: the string "false" must never read as protected."""
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise RenderFormatError(
            f"resource {item.get('name')!r}: {name} must be true or false, got {value!r}"
        )
    return value


def requests_of_render(render: Mapping[str, Any]) -> Requests:
    """A render's resources as the analyzer hands them (each as both an ``Analyze`` and an
    ``AnalyzeStack`` resource: a render has inputs only, and the rules read inputs that a
    preview's outputs repeat)."""
    items = render["resources"]
    by_name = {item["name"]: item for item in items}

    def qualified_type(item: Mapping[str, Any]) -> str:
        parent = by_name.get(item.get("parent") or "")
        return f"{qualified_type(parent)}${item['type']}" if parent else item["type"]

    def urn(name: str) -> str:
        prefix = f"urn:pulumi:{render['stack']}::{render['project']}"
        # A dependency on a resource the render lacks (a hand-edited render) keeps its name.
        known = by_name.get(name)
        return f"{prefix}::{qualified_type(known) if known else ''}::{name}"

    wires = []
    for item in items:
        options: dict[str, Any] = {RETAIN_ON_DELETE: _render_option(item, "retain_on_delete")}
        if _render_option(item, "protect"):
            options["protect"] = True
        if item.get("ignore_changes"):
            options["ignoreChanges"] = list(item["ignore_changes"])
        wire: dict[str, Any] = {
            "type": item["type"],
            "name": item["name"],
            "urn": urn(item["name"]),
            "properties": checked_inputs(item["type"], item.get("inputs") or {}),
            "options": options,
            "dependencies": [urn(name) for name in item.get("depends_on") or ()],
        }
        if item.get("parent"):
            wire["parent"] = options["parent"] = urn(item["parent"])
        wires.append(wire)
    return Requests(analyze=wires, analyze_stack=wires)
