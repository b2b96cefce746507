"""The lifecycle rules of companies with their own retention (issue 20.5): every company id
matches exactly one expiry rule per kind, with its company's retention, by MinIO's matching
(a key prefix and every tag of the rule; policies/guardrails/lifecycle.py cites the source).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from infra.config import StackConfig
from infra.lifecycle_rules import (
    DELETE_MARKER_RULE_ID,
    PROBE_RULE_ID,
    LifecycleRule,
    default_prefixes,
    lifecycle_rules,
)
from infra.provider_values import LIFECYCLE_MAX_RULES, RULE_ID_MAX
from policies.guardrails.lifecycle import Rule as GuardrailRule
from policies.guardrails.lifecycle import probe_effect
from voice_recordings.keys import KINDS, Kind, kind_spec, object_key
from voice_recordings.permissions import PROBE_KEY, PROBE_KIND

WHEN = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
DEFAULTS: dict[Kind, int] = {kind: StackConfig("x").retention_days(kind) for kind in KINDS}
# Ids that share digits, so neighbours (4, 42, 420, 4200) are told apart.
IDS = st.one_of(
    st.sampled_from([1, 4, 10, 40, 42, 43, 420, 421, 4200, 9, 99, 999]),
    st.integers(min_value=1, max_value=10**12),
)
OWN = st.dictionaries(
    IDS,
    st.fixed_dictionaries({kind: st.integers(min_value=1, max_value=36500) for kind in KINDS}),
    max_size=4,
)


def matching(rules: list[LifecycleRule], key: str, tags: dict[str, str]) -> list[LifecycleRule]:
    """The rules MinIO's FilterRules keeps for an object (prefix, then every tag)."""
    return [
        r
        for r in rules
        if key.startswith(r.prefix) and all(tags.get(k) == v for k, v in r.tags.items())
    ]


@settings(max_examples=300, deadline=None)
@given(own=OWN, probes=st.lists(IDS, min_size=1, max_size=8))
def test_property_each_company_has_one_expiry_per_kind_at_its_retention(
    own: dict[int, dict[Kind, int]], probes: list[int]
) -> None:
    rules = lifecycle_rules(DEFAULTS, own, 30)
    for company in [*probes, *own]:
        for kind, spec in KINDS.items():
            key = object_key(kind, company, "call-1", WHEN)
            found = [r for r in matching(rules, key, dict(spec.tag)) if r.expiration.endswith("d")]
            assert len(found) == 1, (company, kind, [r.id for r in found])
            wanted = own.get(company, DEFAULTS)[kind]
            assert found[0].expiration == f"{wanted}d"
            assert found[0].noncurrent_days == 30
            # Untagged, the same key matches no expiry at all.
            assert [r for r in matching(rules, key, {}) if r.expiration.endswith("d")] == []
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) and all(len(i) <= RULE_ID_MAX for i in ids)


def test_without_companies_of_their_own_the_rules_are_one_per_kind_with_no_prefix() -> None:
    assert default_prefixes([]) == [""]
    rules = lifecycle_rules(DEFAULTS, {}, 30)
    assert [(r.id, r.prefix, dict(r.tags)) for r in rules] == [
        (DELETE_MARKER_RULE_ID, "", {}),
        *((f"expire-{kind}", "", kind_spec(kind).tag) for kind in sorted(KINDS)),
    ]


def test_the_prefixes_for_company_42_are_the_documented_ones() -> None:
    assert default_prefixes([42]) == [
        *(f"company_{d}" for d in (1, 2, 3)),
        "company_4/",
        "company_40",
        "company_41",
        *(f"company_42{d}" for d in range(10)),
        *(f"company_4{d}" for d in range(3, 10)),
        *(f"company_{d}" for d in range(5, 10)),
    ]


def test_the_rule_count_grows_with_the_digits_and_stays_under_minio_s_limit() -> None:
    one = lifecycle_rules(DEFAULTS, {42: DEFAULTS}, 30)
    # Per kind: the default prefixes and the company's own rule; then the delete-marker rule and
    # the check probe's rule.
    assert len(one) == 2 * (len(default_prefixes([42])) + 1) + 2 == 60
    # Ten 6-digit companies: still within the 1000 rules MinIO takes.
    many = {100_000 + 7919 * n: DEFAULTS for n in range(10)}
    assert len(lifecycle_rules(DEFAULTS, many, 30)) <= LIFECYCLE_MAX_RULES


# --- the order: what `pulumi preview --diff` compares, index by index (issue 27.2) ------------

OWN_DAYS: dict[Kind, int] = {"voice": 1825, "transcript": 730}


def _ids(companies: tuple[int, ...], days: dict[Kind, int] = OWN_DAYS) -> list[str]:
    return [r.id for r in lifecycle_rules(DEFAULTS, dict.fromkeys(companies, days), 30)]


def changed_indexes(before: list[LifecycleRule], after: list[LifecycleRule]) -> list[int]:
    """The indexes whose rule differs (a rule added or removed at the end counts too)."""
    longest = max(len(before), len(after))
    padded = (
        [*before, *[None] * (longest - len(before))],
        [*after, *[None] * (longest - len(after))],
    )
    return [i for i, (old, new) in enumerate(zip(*padded, strict=True)) if old != new]


def misleading_indexes(before: list[LifecycleRule], after: list[LifecycleRule]) -> list[int]:
    """Indexes where the diff compares two different rules although one of them is in both
    lists: it would read as one rule changing into another (``expire-voice 60d => 30d``)."""
    both = {r.id for r in before} & {r.id for r in after}
    return [
        i
        for i, (old, new) in enumerate(zip(before, after, strict=False))
        if old.id != new.id and (old.id in both or new.id in both)
    ]


def test_one_company_s_own_retention_changes_two_indexes_and_appends_the_rest() -> None:
    before = lifecycle_rules(DEFAULTS, {}, 30)
    after = lifecycle_rules(DEFAULTS, {42: OWN_DAYS}, 30)
    assert misleading_indexes(before, after) == []
    # Before issue 27 every one of the 59 indexes changed (the delete-marker rule moved from the
    # end); now the two default rules are taken over by company_1's and the rest is appended.
    changed = changed_indexes(before, after)
    assert [i for i in changed if i < len(before)] == [1, 2]
    assert len(changed) == len(after) - 1


@pytest.mark.parametrize(
    ("base", "change"),
    [
        ((42,), (42, 43)),  # a sibling with a larger id
        ((42,), (42, 4200)),  # an id that continues 42
        ((42,), (42, 1234)),  # a longer, larger id elsewhere
        ((42,), (4, 42)),  # the id 42 continues: its own rule takes company_4/'s place
        ((42, 1234), (42,)),  # a company goes back to the defaults
    ],
)
def test_a_further_company_moves_no_rule_that_stays(
    base: tuple[int, ...], change: tuple[int, ...]
) -> None:
    before = lifecycle_rules(DEFAULTS, dict.fromkeys(base, OWN_DAYS), 30)
    after = lifecycle_rules(DEFAULTS, dict.fromkeys(change, OWN_DAYS), 30)
    assert misleading_indexes(before, after) == []
    # Per kind: the rule the new company splits is taken over in place; the rest appends.
    assert len([i for i in changed_indexes(before, after) if i < min(len(before), len(after))]) == 2


@settings(max_examples=200, deadline=None)
@given(base=st.sets(IDS, max_size=3), extra=IDS)
def test_property_a_company_with_a_larger_id_appends(base: set[int], extra: int) -> None:
    """The order's promise (infra/lifecycle_rules.py): a company whose id is larger than every
    other company's of its own keeps every existing rule at its index. (A smaller id inserts its
    groups before the larger ids' groups: those move, their ids unchanged.)"""
    assume(all(extra > company for company in base))
    before = lifecycle_rules(DEFAULTS, dict.fromkeys(base, OWN_DAYS), 30)
    after = lifecycle_rules(DEFAULTS, dict.fromkeys(base | {extra}, OWN_DAYS), 30)
    assert misleading_indexes(before, after) == []
    assert len([i for i in changed_indexes(before, after) if i < len(before)]) <= len(KINDS)


def test_changing_one_company_s_days_changes_its_own_rules_only() -> None:
    before = lifecycle_rules(DEFAULTS, {42: OWN_DAYS, 7: OWN_DAYS}, 30)
    after = lifecycle_rules(DEFAULTS, {42: {**OWN_DAYS, "voice": 3650}, 7: OWN_DAYS}, 30)
    assert [after[i].id for i in changed_indexes(before, after)] == ["expire-voice-company_42-own"]


def test_the_order_follows_the_digits_a_reader_expects() -> None:
    ids = _ids((42,))
    assert ids[:4] == [
        DELETE_MARKER_RULE_ID,
        PROBE_RULE_ID,
        "expire-transcript-company_1*",
        "expire-voice-company_1*",
    ]
    # company 42's own rules stand where company_42* would, among company_40* ... company_49*.
    middle = ids.index("expire-transcript-company_41*")
    assert ids[middle + 2 : middle + 4] == [
        "expire-transcript-company_42-own",
        "expire-voice-company_42-own",
    ]
    assert ids[-2:] == ["expire-transcript-company_429*", "expire-voice-company_429*"]


@settings(max_examples=100, deadline=None)
@given(own=OWN)
def test_property_the_check_probe_expires_under_every_company_retention(
    own: dict[int, dict[Kind, int]],
) -> None:
    """Issue 26.8: `voice-recordings check` overwrites its probe each run; some rule must expire
    it and its old versions whatever companies have their own retention (the default rules then
    select company prefixes, none of which is healthcheck/)."""
    rules = lifecycle_rules(DEFAULTS, own, 30)
    found = [
        r
        for r in matching(rules, PROBE_KEY, dict(kind_spec(PROBE_KIND).tag))
        if r.expiration.endswith("d")
    ]
    assert len(found) == 1, [r.id for r in found]
    assert found[0].noncurrent_days == 30
    assert found[0].expiration == f"{DEFAULTS[PROBE_KIND]}d"
    as_rendered = [
        GuardrailRule.from_input(
            {
                "id": r.id,
                "filter": r.prefix,
                "tags": dict(r.tags),
                "expiration": r.expiration,
                "noncurrentVersionExpirationDays": r.noncurrent_days,
            }
        )
        for r in rules
    ]
    probe = probe_effect(as_rendered)
    assert probe.expired_whole and any(c == "all" for *_, c in probe.noncurrent)
