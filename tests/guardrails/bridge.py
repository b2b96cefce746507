"""Analyzer requests shaped as the real pulumi-terraform-bridge (v3.135.0) makes them (issue 25).

What the bridge adds to what our stand-in plugin sends, confirmed by running the bridge's Check and
a preview Create:

- Check writes ``"__defaults": []`` into every object it converts, nested blocks included
  (``pkg/tfbridge/schema.go``, ``makeObjectTerraformInputs``/``applyDefaults``); the engine drops
  internal keys before ``Analyze`` only at the top level (pulumi ``pkg/resource/plugin/rpc.go``),
  so the nested ones reach the pack. We add them at the top level too: a recording read by
  ``make guard`` may carry them.
- A preview's planned state (what ``AnalyzeStack`` carries) leaves every computed-only value
  unknown until Create runs: a new lifecycle rule's ``status``, a bucket's ``arn``. Which values
  are computed-only is read from ``infra/provider_contract.py``, so every one of them, nested or
  not, is unknown here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy.deserialize import SPECIAL_SIG_KEY

from infra.provider_contract import CONTRACTS, Attribute
from policies.guardrails.analyzer import WIRE_UNKNOWN, Requests

BRIDGE_DEFAULTS: Final = "__defaults"


def with_defaults(value: Any) -> Any:
    """``value`` with ``"__defaults": []`` in every object at any depth (a secret's or an
    asset's envelope excepted: the bridge converts values, not the engine's envelopes)."""
    if isinstance(value, Mapping) and SPECIAL_SIG_KEY not in value:
        return {BRIDGE_DEFAULTS: [], **{k: with_defaults(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [with_defaults(item) for item in value]
    return value


def computed_unknown(value: Any, attributes: Mapping[str, Attribute]) -> Any:
    """``value`` (an object of ``attributes``, or a list of them) with every computed-only
    attribute unknown, in nested blocks too, as a preview's planned state of a new resource."""
    if isinstance(value, list):
        return [computed_unknown(item, attributes) for item in value]
    if not isinstance(value, Mapping):
        return value
    planned = {
        key: computed_unknown(item, attributes[key].block or {}) if key in attributes else item
        for key, item in value.items()
    }
    computed = (name for name, a in attributes.items() if a.mode == "computed")
    return planned | dict.fromkeys(computed, WIRE_UNKNOWN)


def planned(type_token: str, properties: Mapping[str, Any]) -> Any:
    """A resource's properties as a preview of its Create plans them (its computed-only values,
    at any depth, unknown)."""
    contract = CONTRACTS.get(type_token)
    return computed_unknown(properties, contract.attributes) if contract else dict(properties)


def as_the_bridge_sends(requests: Requests) -> Requests:
    """``requests`` (a render's, from ``requests_of_render``) as the engine hands them to the
    pack over the bridged provider: ``Analyze`` the checked inputs with nested ``__defaults``,
    ``AnalyzeStack`` the planned state with every computed-only value unknown as well."""
    analyze = [{**w, "properties": with_defaults(w["properties"])} for w in requests.analyze]
    stack = [
        {**w, "properties": with_defaults(planned(w["type"], w["properties"]))}
        for w in requests.analyze_stack
    ]
    return Requests(analyze, stack, requests.config)


def unknown_paths(value: Any, path: str = "") -> list[str]:
    """Where ``value`` holds the wire's unknown (to show a test's input really has them)."""
    if value == WIRE_UNKNOWN:
        return [path]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in unknown_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unknown_paths(v, f"{path}[{i}]")]
    return []
