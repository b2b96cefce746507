"""The lifecycle guardrails judge what MinIO will do, not the rules one at a time (issue 19.5).

A property: for any set of lifecycle rules, ``python -m policies.guardrails.offline``'s verdict
agrees with a simulation of MinIO on concrete objects, written here from MinIO's documented
semantics (an object matches a rule only if it holds every tag of the rule and its key starts
with the rule's prefix; the earliest expiry of the matching rules wins; see
policies/guardrails/lifecycle.py for the source files). Plus the render's resource options:
``"protect": "false"`` is refused, never read as protected.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import COMPANY_RETENTION_KEY, RETENTION_KEYS, full_key
from policies.guardrails.lifecycle import Effect, Rule, effect, stored_objects
from policies.guardrails.offline import RENDER_DIR, check_render
from tests.guardrails.renders import Render, find, load_committed
from voice_recordings.keys import KINDS, kind_spec, object_key

WHEN = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
# Concrete objects: (key, tags). Recordings and transcripts of a few companies, tagged as the
# uploader tags them; the same keys untagged (before tag-existing), and keys outside the layout.
TAGGED = [
    (company, object_key(kind, company, "call-1", WHEN), dict(kind_spec(kind).tag))
    for kind in KINDS
    # 1, 12 and 13 share the prefix "company_1"; 7 is under none of the strategy's prefixes.
    for company in (1, 5, 7, 12, 13)
]
UNTAGGED: list[tuple[str, dict[str, str]]] = [(key, dict[str, str]()) for _, key, _ in TAGGED] + [
    ("other/file.bin", {}),
    ("healthcheck/x", {}),
]
RULE = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["a", "b", "c", "d"]),
        "expiration": st.sampled_from(["", "1d", "20d", "400d", "DeleteMarker"]),
    },
    optional={
        "tags": st.dictionaries(
            st.sampled_from(["kind", "legal"]),
            st.sampled_from(["voice", "transcript", "hold"]),
            max_size=2,
        ),
        "filter": st.sampled_from(
            ["", "company_", "company_5/", "company_1", "company_1/", "company_12/", "other/"]
        ),
        "noncurrentVersionExpirationDays": st.just(1),
    },
)


def matches(rule: dict[str, Any], key: str, tags: dict[str, str]) -> bool:
    wanted = rule.get("tags") or {}
    return all(tags.get(k) == v for k, v in wanted.items()) and key.startswith(
        rule.get("filter") or ""
    )


def days(rule: dict[str, Any]) -> int | None:
    text = rule.get("expiration", "")
    return int(text[:-1]) if text.endswith("d") and text[:-1].isdigit() else None


def simulated_problems(
    rules: list[dict[str, Any]], retention: dict[str, int], own: dict[int, dict[str, int]]
) -> set[str]:
    """Which lifecycle rules must fire, from MinIO's semantics on the concrete objects: each
    must expire at its retention (its company's own, if it has one), not sooner, not later."""
    found = set()
    for company, key, tags in TAGGED:
        wanted = own.get(company, retention)[tags["kind"]]
        expiries = [d for r in rules if matches(r, key, tags) and (d := days(r)) is not None]
        if not expiries or min(expiries) > wanted:
            found.add("lifecycle-per-kind")
        elif min(expiries) < wanted:
            found.add("lifecycle-no-early-expiry")
    for key, tags in UNTAGGED:
        for rule in rules:
            if matches(rule, key, tags) and (
                days(rule) is not None or rule.get("noncurrentVersionExpirationDays")
            ):
                found.add("lifecycle-no-early-expiry")
    return found


LIFECYCLE_RULES = {"lifecycle-per-kind", "lifecycle-no-early-expiry"}


# Companies with their own retention (13: named by no prefix of the strategy).
OWN = st.dictionaries(
    st.sampled_from([1, 5, 12, 13]),
    st.fixed_dictionaries({kind: st.sampled_from([1, 20, 365, 400]) for kind in KINDS}),
    max_size=2,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(RULE, min_size=1, max_size=5, unique_by=lambda r: r["id"]), own=OWN)
def test_property_the_verdict_is_what_minio_would_do(
    rules: list[dict[str, Any]], own: dict[int, dict[str, int]]
) -> None:
    render = load_committed("prod")
    find(render, ":IlmPolicy")["inputs"]["rules"] = rules
    render["config"][full_key(COMPANY_RETENTION_KEY)] = {str(c): d for c, d in own.items()}
    retention: dict[str, int] = {
        kind: int(render["config"][full_key(key)]) for kind, key in RETENTION_KEYS.items()
    }
    fired = {v.rule for v in check_render(render)} & LIFECYCLE_RULES
    assert fired == simulated_problems(rules, retention, own), (rules, own)


def guard(tmp_path: Path, render: Render) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "render.json"
    path.write_text(json.dumps(render))
    return subprocess.run(
        [sys.executable, "-m", "policies.guardrails.offline", str(path)],
        cwd=RENDER_DIR.parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# Filters deeper than a company class's prefix too (``company_5/voice/2026/``): such a rule
# matches some of the class's objects.
DEEP_RULE = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c"]), "expiration": st.sampled_from(["", "20d"])},
    optional={
        "filter": st.sampled_from(
            ["", "company_1", "company_5/", "company_5/voice/2026/", "company_12/transcript/x"]
        ),
        "tags": st.just({"kind": "voice"}),
        "noncurrentVersionExpirationDays": st.just(1),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    rules=st.lists(st.one_of(RULE, DEEP_RULE), max_size=6),
    companies=st.lists(st.sampled_from(["1", "5", "12", "130", "7"]), max_size=3),
)
def test_property_each_rule_is_tried_on_every_object_it_can_match(
    rules: list[dict[str, Any]], companies: list[str]
) -> None:
    """``effect`` tries a rule only on the objects its prefix can reach: the result is that of
    trying every rule on every object, in the rules' order."""
    parsed = [Rule.from_input(raw) for raw in rules]
    found = effect(parsed, companies)
    for stored in stored_objects([rule.prefix for rule in parsed], companies):
        expected = Effect(stored)
        for rule in parsed:
            coverage = rule.coverage(stored)
            if coverage == "none":
                continue
            if rule.expiry_days is not None:
                expected.expiries.append((rule.id, rule.expiry_days, coverage))
            if rule.expiry_date is not None:
                expected.dated.append((rule.id, rule.expiry_date))
            if rule.noncurrent_days is not None:
                expected.noncurrent.append((rule.id, rule.noncurrent_days, coverage))
        assert found[stored.name] == expected


def test_the_named_examples_fail_make_guard(tmp_path: Path) -> None:
    for mutation in (
        {"id": "cleanup", "expiration": "1d"},
        {"id": "expire-delete-markers", "expiration": "1d"},
    ):
        render = load_committed("prod")
        rules = find(render, ":IlmPolicy")["inputs"]["rules"]
        rules[:] = [r for r in rules if r["id"] != mutation["id"]] + [mutation]
        done = guard(tmp_path, render)
        assert done.returncode == 1
        assert "MANDATORY lifecycle-no-early-expiry" in done.stdout


def test_protect_written_as_a_string_is_refused_not_read_as_protected(tmp_path: Path) -> None:
    for value in ("false", "true", 0, None):
        render = load_committed("prod")
        find(render, ":S3Bucket")["protect"] = value
        done = guard(tmp_path, render)
        assert done.returncode == 2, done.stdout
        assert f"protect must be true or false, got {value!r}" in done.stderr
