"""A render checked against the provider contract: what the provider would refuse, before a deploy.

:func:`check_render` checks a render (``python -m infra.render``) against
:data:`infra.provider_contract.CONTRACTS`: every input is settable (not computed-only), every
required input is present, nested rule fields too, and the validators that the provider (or
MinIO, which it hands the value to) would refuse; then what MinIO refuses in a whole lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.provider_contract import CONTRACTS, Attribute
from infra.provider_values import DELETE_MARKER, LIFECYCLE_MAX_RULES, RULE_ID_MAX
from infra.render_format import LIFECYCLE, SECRET_MARKER


def _block_problems(
    where: str, value: Any, block: Mapping[str, Attribute], as_list: bool
) -> Iterator[str]:
    items = value if as_list else [value]
    if not isinstance(items, list) or (as_list and not items):
        yield f"{where} must be a non-empty list of blocks, got {value!r}"
        return
    for index, item in enumerate(items):
        at = f"{where}[{index}]" if as_list else where
        if not isinstance(item, Mapping):
            yield f"{at} must be a block (object), got {item!r}"
            continue
        yield from _attribute_problems(at, item, block)


def _attribute_problems(
    where: str, inputs: Mapping[str, Any], attributes: Mapping[str, Attribute]
) -> Iterator[str]:
    for name in sorted(inputs):
        attribute = attributes.get(name)
        value = inputs[name]
        if attribute is None:
            yield f"{where}.{name} is not an attribute of the provider's schema"
            continue
        if attribute.mode == "computed":
            yield (
                f"{where}.{name} is computed-only ({attribute.tf_name}): the provider refuses "
                "a value for it at Check; remove it"
            )
            continue
        if attribute.block is not None:
            yield from _block_problems(
                f"{where}.{name}", value, attribute.block, attribute.block_list
            )
            continue
        if attribute.validate is not None and value != SECRET_MARKER:
            problem = attribute.validate(value)
            if problem:
                yield f"{where}.{name} {problem}"
    for name, attribute in sorted(attributes.items()):
        if attribute.mode == "required" and name not in inputs:
            yield f"{where}.{name} ({attribute.tf_name}) is required by the provider and missing"


def _lifecycle_problems(where: str, rules: Sequence[Any]) -> Iterator[str]:
    """What MinIO refuses in a lifecycle the provider would send (the whole put fails)."""
    ids = [r.get("id") for r in rules if isinstance(r, Mapping)]
    if len(rules) > LIFECYCLE_MAX_RULES:
        yield f"{where}.rules: {len(rules)} rules, more than MinIO's {LIFECYCLE_MAX_RULES}"
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        yield f"{where}.rules: the id {duplicate!r} appears twice (MinIO: duplicate rule ID)"
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        at = f"{where}.rules[{index}]"
        if len(str(rule.get("id", ""))) > RULE_ID_MAX:
            yield f"{at}.id is longer than {RULE_ID_MAX} characters (MinIO refuses it)"
        if rule.get("expiration") == DELETE_MARKER and rule.get("tags"):
            # MinIO evaluates tag filters against the object's tags; a delete marker has none,
            # so such a rule can never remove one (internal/bucket/lifecycle/filter.go TestTags).
            yield f"{at}: an ExpiredObjectDeleteMarker rule with tags never matches a delete marker"
        if not rule.get("expiration") and not rule.get("noncurrentVersionExpirationDays"):
            yield f"{at} has no action (no expiration, no noncurrent expiration): MinIO refuses it"


def resource_problems(type_token: str, name: str, inputs: Mapping[str, Any]) -> list[str]:
    """Every way ``inputs`` of resource ``name`` break the contract of ``type_token``."""
    contract = CONTRACTS.get(type_token)
    where = f"{type_token.rsplit(':', 1)[-1]} '{name}'"
    if contract is None:
        if type_token.startswith("minio:"):
            return [f"{where}: no provider contract for {type_token}; add it from the source"]
        return []  # not a MinIO resource (the component, pulumi-random)
    found = list(_attribute_problems(where, inputs, contract.attributes))
    if type_token == LIFECYCLE and isinstance(inputs.get("rules"), list):
        found.extend(_lifecycle_problems(where, inputs["rules"]))
    return found


def check_render(document: Mapping[str, Any]) -> list[str]:
    """Every contract violation of a render (``python -m infra.render``'s JSON): [] when clean."""
    found: list[str] = []
    for resource in document.get("resources", []):
        found.extend(resource_problems(resource["type"], resource["name"], resource["inputs"]))
    return found
