"""Both runners on what the real bridge hands the analyzer (issue 25, item 4): internal ``__`` keys
at any depth, every computed-only value unknown in a preview's planned state, numbers as doubles.

The pack runs as the engine serves it (a gRPC analyzer process, ``packrun.py``) and is sent the
requests of each committed render made bridge-shaped (``bridge.py``); ``make guard`` reads the
same requests. Both must reach the verdict the committed render gets.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import analyzer_pb2_grpc

from infra import render_format
from infra.provider_contract import CONTRACTS
from policies.guardrails.analyzer import (
    INTERNAL_KEY_PREFIX,
    WIRE_UNKNOWN,
    Requests,
    project_config,
    requests_of_render,
)
from policies.guardrails.rules_closed_world import KNOWN_INPUTS
from tests.engine.policy_packs import mandatory, offline_verdict
from tests.engine.violations import BY_ID, apply_to_render
from tests.guardrails.bridge import BRIDGE_DEFAULTS, as_the_bridge_sends, unknown_paths
from tests.guardrails.packrun import CANT_RUN, config_strings, replay, serve_pack, verdict_of
from tests.guardrails.renders import COMMITTED_STACKS, Render, find, load_committed

DROPPED_TRANSCRIPT_EXPIRY: Final = BY_ID["lifecycle-without-transcript-expiry"]
RULES: Final = "rules"  # the IlmPolicy's list of rules (wire name)


def _declared_rule_fields() -> tuple[str, ...]:
    """The lifecycle rule's fields the guardrails know that the program declares (not the
    provider's computed-only ones)."""
    known = KNOWN_INPUTS[render_format.LIFECYCLE][RULES]
    block = CONTRACTS[render_format.LIFECYCLE].attributes[RULES].block
    assert isinstance(known, Mapping) and block is not None
    return tuple(name for name in known if block[name].mode != "computed")


DECLARED_RULE_FIELDS: Final = _declared_rule_fields()
# The mandatory stack rules that judge the lifecycle's rules.
LIFECYCLE_RULES: Final = ("lifecycle-per-kind", "lifecycle-no-early-expiry")


@pytest.fixture(scope="module", params=COMMITTED_STACKS)
def served(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Render, analyzer_pb2_grpc.AnalyzerStub]]:
    """Each committed render, and the pack served with that stack's config."""
    render = load_committed(request.param)
    with serve_pack(render["config"]) as stub:
        yield render, stub


def bridged(render: Render) -> Requests:
    """The render's requests as the engine hands them to the pack over the real bridge, with
    the stack config the engine hands every pack."""
    requests = as_the_bridge_sends(requests_of_render(render))
    config = project_config(config_strings(render["config"]))
    return Requests(requests.analyze, requests.analyze_stack, config)


def lifecycle_of(wires: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The properties of the (one) IlmPolicy among ``wires``."""
    lifecycle = next(w for w in wires if w["type"] == render_format.LIFECYCLE)
    properties: Mapping[str, Any] = lifecycle["properties"]
    return properties


def test_the_bridge_shape_has_what_the_bridge_sends() -> None:
    """The inputs below really carry nested ``__defaults`` and an unknown ``status`` in each
    lifecycle rule (else every test here would pass on main)."""
    requests = bridged(load_committed("prod"))
    checked = lifecycle_of(list(requests.analyze))
    assert all(rule[BRIDGE_DEFAULTS] == [] for rule in checked[RULES])
    versioning = next(w for w in requests.analyze if w["type"] == render_format.VERSIONING)
    assert versioning["properties"]["versioningConfiguration"][BRIDGE_DEFAULTS] == []
    planned = lifecycle_of(list(requests.analyze_stack))
    statuses = [p for p in unknown_paths(planned) if p.startswith(f".{RULES}[")]
    assert statuses == [f".{RULES}[{i}].status" for i in range(len(planned[RULES]))]


def test_the_pack_decides_each_stack_as_the_bridge_sends_it(
    served: tuple[Render, analyzer_pb2_grpc.AnalyzerStub],
) -> None:
    render, stub = served
    diagnostics = replay(stub, bridged(render))
    assert [d.message for d in diagnostics if CANT_RUN in d.message] == []
    assert verdict_of(diagnostics) == offline_verdict(render)
    assert mandatory(verdict_of(diagnostics)) == set()


def test_make_guard_reads_what_the_bridge_sends_as_it_reads_the_render(committed: Render) -> None:
    assert offline_verdict(bridged(committed)) == offline_verdict(committed)


def test_a_preview_that_drops_transcript_expiry_fails(
    served: tuple[Render, analyzer_pb2_grpc.AnalyzerStub],
) -> None:
    render, stub = served
    changed = copy.deepcopy(render)
    apply_to_render(DROPPED_TRANSCRIPT_EXPIRY, changed)
    found = verdict_of(replay(stub, bridged(changed)))
    assert mandatory(found) == DROPPED_TRANSCRIPT_EXPIRY.rules
    assert found == offline_verdict(changed) == offline_verdict(bridged(changed))


@pytest.mark.parametrize("field", DECLARED_RULE_FIELDS)
def test_an_unknown_declared_rule_field_is_not_judged_as_passing(
    served: tuple[Render, analyzer_pb2_grpc.AnalyzerStub], field: str
) -> None:
    """What the program declares must be known to be judged: unknown, the lifecycle rules say
    they can't run during preview (pulumi-policy's advisory), in both runners alike."""
    render, stub = served
    requests = bridged(render)
    for wires in (requests.analyze, requests.analyze_stack):
        lifecycle_of(list(wires))[RULES][0][field] = WIRE_UNKNOWN
    diagnostics = replay(stub, requests)
    cant_run = {d.policyName for d in diagnostics if CANT_RUN in d.message}
    assert cant_run >= set(LIFECYCLE_RULES)
    assert "known-resources-only" not in cant_run  # it reads the rule's keys, all known
    assert verdict_of(diagnostics) == offline_verdict(requests)


@pytest.mark.parametrize("key", ["statuss", "_defaults", "defaults__", "x__y"])
def test_a_real_unknown_nested_key_still_fails(
    served: tuple[Render, analyzer_pb2_grpc.AnalyzerStub], key: str
) -> None:
    render, stub = served
    changed = copy.deepcopy(render)
    find(changed, "S3BucketVersioning")["inputs"]["versioningConfiguration"][key] = "Enabled"
    find(changed, "IlmPolicy")["inputs"][RULES][-1][key] = "Enabled"
    diagnostics = replay(stub, bridged(changed))
    assert mandatory(verdict_of(diagnostics)) == {"known-resources-only"}
    named = [d.message for d in diagnostics if d.policyName == "known-resources-only"]
    assert len(named) == 2 and all(f"{key!r} is not one" in m for m in named), named
    assert not any(BRIDGE_DEFAULTS in m for m in named)
    assert offline_verdict(bridged(changed)) == verdict_of(diagnostics)


def test_numbers_arrive_as_doubles_and_still_count(
    served: tuple[Render, analyzer_pb2_grpc.AnalyzerStub],
) -> None:
    """A bucket-wide rule that expires noncurrent versions fails in the pack too, where
    google.protobuf.Struct makes its days a double (30.0)."""
    render, stub = served
    changed = copy.deepcopy(render)
    bucket_wide = {"id": "everything", "expiration": "DeleteMarker"}
    find(changed, "IlmPolicy")["inputs"][RULES].append(
        bucket_wide | {"noncurrentVersionExpirationDays": 30}
    )
    found = verdict_of(replay(stub, bridged(changed)))
    assert mandatory(found) == {"lifecycle-no-early-expiry"}
    assert found == offline_verdict(changed)


# --- internal keys at any depth: injected where hypothesis likes ---------------------------------

JSON_VALUES: Final = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**31), 2**31)
    | st.text(max_size=8)
    | st.just(WIRE_UNKNOWN),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
INTERNAL_KEYS: Final = st.text(max_size=10).map(lambda tail: INTERNAL_KEY_PREFIX + tail)


def objects_in(value: Any) -> list[dict[str, Any]]:
    """Every JSON object in ``value`` (itself included), at any depth."""
    if isinstance(value, dict):
        return [value, *(o for item in value.values() for o in objects_in(item))]
    if isinstance(value, list):
        return [o for item in value for o in objects_in(item)]
    return []


def inject_internal_keys(requests: Requests, data: st.DataObject) -> int:
    """Put internal keys with any values into objects of the requests' properties, at any
    depth (top level included); how many went in."""
    count = data.draw(st.integers(1, 6))
    for _ in range(count):
        wires = data.draw(st.sampled_from([requests.analyze, requests.analyze_stack]))
        wire = data.draw(st.sampled_from(list(wires)))
        target = data.draw(st.sampled_from(objects_in(wire["properties"])))
        target[data.draw(INTERNAL_KEYS)] = data.draw(JSON_VALUES)
    return count


@settings(max_examples=80, deadline=None)
@given(stack=st.sampled_from(COMMITTED_STACKS), data=st.data())
def test_internal_keys_at_any_depth_never_change_make_guards_verdict(
    stack: str, data: st.DataObject
) -> None:
    render = load_committed(stack)
    requests = bridged(render)
    inject_internal_keys(requests, data)
    assert offline_verdict(requests) == offline_verdict(render)


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[tuple[Render, analyzer_pb2_grpc.AnalyzerStub]]:
    """prod's render and the pack served with its config (for many examples)."""
    render = load_committed("prod")
    with serve_pack(render["config"]) as stub:
        yield render, stub


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_internal_keys_at_any_depth_never_change_the_packs_verdict(
    prod_pack: tuple[Render, analyzer_pb2_grpc.AnalyzerStub], data: st.DataObject
) -> None:
    render, stub = prod_pack
    requests = bridged(render)
    inject_internal_keys(requests, data)
    assert verdict_of(replay(stub, requests)) == offline_verdict(render)
