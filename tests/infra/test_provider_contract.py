"""Every render against the provider contract (what terraform-provider-minio v1.20.1 accepts)."""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Mapping
from typing import Any, Final

import pulumi_minio as minio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.contract_check import check_render, resource_problems
from infra.project import REPOSITORY
from infra.provider_contract import CONTRACTS, env_variables, force_new_inputs
from infra.provider_values import DELETE_MARKER
from infra.render_format import LIFECYCLE, PROVIDER, VERSIONING
from tests import docs
from tests.support import PUBLIC_OPT_IN, program_run

ENCRYPTION: Final = {"voice-recordings:encryptionKeyId": "recordings-key"}
# Every variant a stack can render: the committed stacks and the opt-ins, alone and together.
VARIANTS: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "prod": ("prod", {}),
    "dev": ("dev", {}),
    "prod-public": ("prod", PUBLIC_OPT_IN),
    "dev-public": ("dev", PUBLIC_OPT_IN),
    "prod-encryption": ("prod", ENCRYPTION),
    "dev-public-encryption": ("dev", {**PUBLIC_OPT_IN, **ENCRYPTION}),
    "prod-no-reader": ("prod", {"voice-recordings:omniplayReader": "false"}),
}


def render(variant: str) -> dict[str, Any]:
    stack, overrides = VARIANTS[variant]
    return program_run(stack, overrides).document()


def minio_resources() -> list[dict[str, Any]]:
    """Each distinct MinIO resource (and the provider) of every variant."""
    unique: dict[str, dict[str, Any]] = {}
    for variant in VARIANTS:
        for resource in render(variant)["resources"]:
            if resource["type"] in CONTRACTS:
                unique[json.dumps(resource, sort_keys=True)] = resource
    return list(unique.values())


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_render_meets_the_contract(variant: str) -> None:
    assert check_render(render(variant)) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_minio_resource_of_the_render_has_a_contract(variant: str) -> None:
    types = {r["type"] for r in render(variant)["resources"]}
    minio_types = {t for t in types if t.startswith(("minio:", "pulumi:providers:minio"))}
    assert minio_types <= set(CONTRACTS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_what_the_provider_cannot_read_back_is_ignored(variant: str) -> None:
    """A second `pulumi up` plans no change: nothing Read reports differently is compared."""
    for resource in render(variant)["resources"]:
        contract = CONTRACTS.get(resource["type"])
        if contract is not None:
            assert set(contract.not_read_back) <= set(resource["ignore_changes"]), resource["name"]


def _lifecycle(document: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in document["resources"] if r["type"] == LIFECYCLE]
    assert len(found) == 1
    return dict(found[0])


def test_an_ilm_rule_status_fails_the_contract() -> None:
    """The regression this contract exists for: the provider refuses a value for rule.status."""
    document = copy.deepcopy(render("prod"))
    _lifecycle(document)["inputs"]["rules"][0]["status"] = "Enabled"
    problems = check_render(document)
    assert len(problems) == 1
    assert "rules[0].status is computed-only" in problems[0]


@pytest.mark.parametrize(
    "resource", minio_resources(), ids=lambda r: f"{r['type'].rsplit(':', 1)[-1]}-{r['name']}"
)
def test_the_contract_catches_each_computed_input_and_each_missing_required(
    resource: dict[str, Any],
) -> None:
    """The class, not the example: every computed-only attribute set, every required one dropped."""
    contract = CONTRACTS[resource["type"]]
    for name, attribute in contract.attributes.items():
        inputs = copy.deepcopy(resource["inputs"])
        if attribute.mode == "computed":
            inputs[name] = "x"
            assert any(f".{name} is computed-only" in p for p in check(resource, inputs))
        elif attribute.mode == "required":
            inputs.pop(name, None)
            assert any(
                f".{name} ({attribute.tf_name}) is required" in p for p in check(resource, inputs)
            )
        if attribute.block is not None and name in resource["inputs"]:
            _nested_cases(resource, name, attribute.block, attribute.block_list)
    unknown = {**resource["inputs"], "noSuchArgument": 1}
    assert any(".noSuchArgument is not an attribute" in p for p in check(resource, unknown))


def check(resource: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    return resource_problems(resource["type"], resource["name"], inputs)


def _nested_cases(resource: dict[str, Any], name: str, block: Any, as_list: bool) -> None:
    for field_name, attribute in block.items():
        inputs = copy.deepcopy(resource["inputs"])
        target = inputs[name][0] if as_list else inputs[name]
        if attribute.mode == "computed":
            target[field_name] = "Enabled"
            assert any(f".{field_name} is computed-only" in p for p in check(resource, inputs))
        elif attribute.mode == "required":
            target.pop(field_name, None)
            assert any(
                f".{field_name} ({attribute.tf_name}) is required" in p
                for p in check(resource, inputs)
            )


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_SDK_CLASSES: Final = {
    PROVIDER: minio.Provider,
    **{
        token: getattr(minio, token.rsplit(":", 1)[-1])
        for token in CONTRACTS
        if token.startswith("minio:")
    },
}


@pytest.mark.parametrize("token", sorted(CONTRACTS))
def test_the_contract_uses_the_sdks_names(token: str) -> None:
    """Settable attributes are arguments of pulumi_minio 0.17.1's class; computed ones are not."""
    cls = _SDK_CLASSES[token]
    arguments = set(inspect.signature(cls._internal_init).parameters)
    for name, attribute in CONTRACTS[token].attributes.items():
        snake = _camel_to_snake(name)
        if attribute.mode == "computed":
            assert snake not in arguments, f"{token}.{name}: the SDK takes it as an input"
            assert hasattr(cls, snake), f"{token}.{name}: the SDK has no such output"
        else:
            assert snake in arguments, f"{token}.{name}: not an argument of {cls.__name__}"


_SDK_BLOCKS: Final = {
    (LIFECYCLE, "rules"): minio.IlmPolicyRuleArgs,
    (
        VERSIONING,
        "versioningConfiguration",
    ): minio.S3BucketVersioningVersioningConfigurationArgs,
}


@pytest.mark.parametrize("token, block", sorted(_SDK_BLOCKS))
def test_the_contract_uses_the_sdks_names_in_blocks(token: str, block: str) -> None:
    """Nested fields too. (The SDK's IlmPolicyRuleArgs takes a status: mocks accept it, the
    provider does not, which is why the contract, not the SDK, decides.)"""
    arguments = set(inspect.signature(_SDK_BLOCKS[token, block]).parameters)
    fields = CONTRACTS[token].attributes[block].block
    assert fields is not None
    for name in fields:
        assert _camel_to_snake(name) in arguments, f"{token}.{block}.{name}: not in the SDK"


@given(st.integers(min_value=1, max_value=10**6))
def test_expiration_in_days_from_one_is_accepted(days: int) -> None:
    assert _rule_problems({"id": "r", "expiration": f"{days}d"}) == []


@given(st.integers(max_value=0))
def test_expiration_of_zero_or_fewer_days_is_refused(days: int) -> None:
    assert any(
        "expiration must be" in p for p in _rule_problems({"id": "r", "expiration": f"{days}d"})
    )


@given(st.text().filter(lambda t: not re.fullmatch(r"[0-9]+d|DeleteMarker|[0-9-]{10}", t)))
def test_any_other_expiration_text_is_refused(text: str) -> None:
    assert any("expiration must be" in p for p in _rule_problems({"id": "r", "expiration": text}))


@given(st.integers(max_value=0))
def test_noncurrent_days_below_one_are_refused(days: int) -> None:
    rule = {"id": "r", "expiration": "5d", "noncurrentVersionExpirationDays": days}
    assert any("must be >= 1" in p for p in _rule_problems(rule))


@pytest.mark.parametrize("text", ["2027-01-01", "1970-01-01"])
def test_a_date_in_the_providers_layout_is_accepted(text: str) -> None:
    assert _rule_problems({"id": "r", "expiration": text}) == []


@pytest.mark.parametrize("text", ["20270101", "2027-W01-1", "2027-02-30", "27-01-01"])
def test_other_date_forms_are_refused(text: str) -> None:
    assert any("expiration must be" in p for p in _rule_problems({"id": "r", "expiration": text}))


def test_minio_refusals_of_a_lifecycle_are_caught() -> None:
    assert any("appears twice" in p for p in _problems([{"id": "a", "expiration": "5d"}] * 2))
    assert any("has no action" in p for p in _problems([{"id": "a", "tags": {"kind": "voice"}}]))
    tagged_marker = [{"id": "a", "expiration": DELETE_MARKER, "tags": {"kind": "voice"}}]
    assert any("never matches a delete marker" in p for p in _problems(tagged_marker))
    assert _problems([{"id": "a", "expiration": DELETE_MARKER}]) == []


def _problems(rules: list[dict[str, Any]]) -> list[str]:
    return resource_problems(LIFECYCLE, "lifecycle", {"bucket": "b", "rules": rules})


def _rule_problems(rule: dict[str, Any]) -> list[str]:
    return _problems([rule])


def test_an_unknown_minio_type_needs_a_contract() -> None:
    problems = resource_problems("minio:index/s3Object:S3Object", "o", {})
    assert problems and "no provider contract" in problems[0]
    assert resource_problems("random:index/randomPassword:RandomPassword", "p", {"x": 1}) == []


def test_every_fact_cites_a_provider_file() -> None:
    for contract in CONTRACTS.values():
        assert re.fullmatch(r"minio/[a-z0-9_]+\.go(, minio/[a-z0-9_]+\.go)*", contract.source)


def test_the_readme_names_every_variable_the_provider_reads() -> None:
    section = docs.section(docs.OPERATING, "What the provider does")
    for variable in env_variables().values():
        assert f"`{variable}`" in section, variable


_PLUGIN_SCHEMA: Final = json.loads(
    (REPOSITORY / "tools/provider/cmd/pulumi-resource-minio/schema.json").read_text("utf-8")
)


def _schema_modes(spec: Mapping[str, Any], inputs: str, required: str) -> dict[str, str]:
    settable = spec.get(inputs, {})
    modes = {
        name: "required" if name in spec.get(required, []) else "optional" for name in settable
    }
    for name in spec.get("properties", {}):
        modes.setdefault(name, "computed")
    return modes


@pytest.mark.parametrize("token", sorted(t for t in CONTRACTS if t != PROVIDER))
def test_the_contract_agrees_with_the_plugins_schema(token: str) -> None:
    """Each attribute the contract states is the mode and secrecy the bridged plugin's schema
    (tfgen's, of our Terraform provider) gives it: one truth for the guardrails and the plugin."""
    spec = _PLUGIN_SCHEMA["resources"][token]
    modes = _schema_modes(spec, "inputProperties", "requiredInputs")
    for name, attribute in CONTRACTS[token].attributes.items():
        assert modes.get(name) == attribute.mode, f"{token}.{name}"
        assert bool(spec["properties"].get(name, {}).get("secret")) == attribute.sensitive, name
        if attribute.block is not None:
            ref = spec["inputProperties"][name]
            ref = ref.get("items", ref)["$ref"].removeprefix("#/types/")
            block = _PLUGIN_SCHEMA["types"][ref]
            block_modes = _schema_modes(block, "properties", "required")
            for field_name, field in attribute.block.items():
                mode = "computed" if field.mode == "computed" else field.mode
                assert block_modes.get(field_name) in (mode, "optional"), f"{name}.{field_name}"


_GO_PROVIDER: Final = REPOSITORY / "tools/provider/minio"


def _go_force_new(tf_name: str) -> set[str]:
    """The attributes of ``tf_name`` that our Terraform provider (v1.20.1's schema) marks
    ``ForceNew: true``, read from its Go source."""
    registry = (_GO_PROVIDER / "provider.go").read_text("utf-8")
    function = re.search(rf'"{tf_name}":\s*(\w+)\(\)', registry)
    assert function, tf_name
    source = next(
        text
        for path in sorted(_GO_PROVIDER.glob("*.go"))
        if f"func {function[1]}()" in (text := path.read_text("utf-8"))
    )
    found = set()
    for match in re.finditer(r'"(\w+)":\s*\{', source):
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(source[end], 0)
            end += 1
        if re.search(r"ForceNew:\s*true", source[match.end() : end]):
            found.add(match[1])
    return found


@pytest.mark.parametrize("token", sorted(t for t in CONTRACTS if t != PROVIDER))
def test_force_new_inputs_are_the_providers(token: str) -> None:
    """What replaces a resource (the review's "replaced", policies/review) is what the provider
    marks ForceNew."""
    contract = CONTRACTS[token]
    stated = {contract.attributes[name].tf_name for name in force_new_inputs(token)}
    assert stated == _go_force_new(contract.tf_name)
