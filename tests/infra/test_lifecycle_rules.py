"""The lifecycle rules of companies with their own retention (issue 20.5): every company id
matches exactly one expiry rule per kind, with its company's retention, by MinIO's matching
(a key prefix and every tag of the rule; policies/guardrails/lifecycle.py cites the source).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.config import StackConfig
from infra.lifecycle_rules import (
    DELETE_MARKER_RULE_ID,
    LifecycleRule,
    default_prefixes,
    lifecycle_rules,
)
from infra.provider_contract import LIFECYCLE_MAX_RULES, RULE_ID_MAX
from voice_recordings.keys import KINDS, Kind, kind_spec, object_key

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
        *((f"expire-{kind}", "", kind_spec(kind).tag) for kind in sorted(KINDS)),
        (DELETE_MARKER_RULE_ID, "", {}),
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
    assert len(one) == 2 * (len(default_prefixes([42])) + 1) + 1 == 59
    # Ten 6-digit companies: still within the 1000 rules MinIO takes.
    many = {100_000 + 7919 * n: DEFAULTS for n in range(10)}
    assert len(lifecycle_rules(DEFAULTS, many, 30)) <= LIFECYCLE_MAX_RULES
