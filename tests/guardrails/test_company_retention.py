"""The guardrails on the lifecycle of a stack where a company has its own retention (issue 20.5):
the committed render prod-company-retention passes; each way of getting its rules wrong fails,
naming the companies it hurts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.config import COMPANY_RETENTION_KEY, full_key
from infra.lifecycle_rules import PROBE_RULE_ID, own_rule_id
from infra.render import COMPANY_RETENTION_OVERRIDES
from policies.guardrails.offline import check_render
from tests.guardrails.renders import Render, find, load_committed
from voice_recordings.keys import KINDS, TRANSCRIPT, VOICE, kind_spec
from voice_recordings.permissions import PROBE_KEY

BASE = "prod-company-retention"
RETENTION = full_key(COMPANY_RETENTION_KEY)
LIFECYCLE = {"lifecycle-per-kind", "lifecycle-no-early-expiry"}


def own_company() -> int:
    """The company the committed example gives its own retention."""
    return int(next(iter(load_committed(BASE)["config"][RETENTION])))


def rules_of(render: Render) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = find(render, ":IlmPolicy")["inputs"]["rules"]
    return found


def lifecycle_findings(render: Render) -> list[tuple[str, str]]:
    return [(v.rule, v.message) for v in check_render(render) if v.rule in LIFECYCLE]


def test_the_committed_example_passes_and_is_the_render_s_override() -> None:
    render = load_committed(BASE)
    assert lifecycle_findings(render) == []
    assert str(own_company()) in COMPANY_RETENTION_OVERRIDES[RETENTION]
    prefixed = [r for r in rules_of(render) if r.get("filter")]
    assert prefixed and all(r.get("tags") for r in prefixed)


def _plain_default_rules(render: Render) -> None:
    # What a reviewer might expect to work: the default rules with no prefix, beside the
    # company's own rules. MinIO applies the earliest: the company's longer retention is cut.
    own = [r for r in rules_of(render) if r["id"].endswith("-own") or not r.get("tags")]
    plain = [{"id": f"expire-{k}", "tags": kind_spec(k).tag, "expiration": "365d"} for k in KINDS]
    rules_of(render)[:] = plain + own


def _drop(rule_id: str) -> Callable[[Render], None]:
    def mutate(render: Render) -> None:
        rules_of(render)[:] = [r for r in rules_of(render) if r["id"] != rule_id]

    return mutate


def _own_rule_without_slash_and_short(render: Render) -> None:
    # A shorter retention whose prefix lacks the slash also matches company 420, 4200, ...
    company = own_company()
    render["config"][RETENTION][str(company)][VOICE] = 30
    for rule in rules_of(render):
        if rule["id"] == own_rule_id(VOICE, company):
            rule["filter"] = rule["filter"].rstrip("/")
            rule["expiration"] = "30d"


def _config_without_the_rules(render: Render) -> None:
    # The config names the company, the lifecycle is the stack's plain one (a stale render).
    rules_of(render)[:] = rules_of(load_committed("prod"))


@pytest.mark.parametrize(
    ("mutate", "rule", "named"),
    [
        (_plain_default_rules, "lifecycle-no-early-expiry", "of company {c} after 365 days"),
        (_config_without_the_rules, "lifecycle-no-early-expiry", "of company {c} after 365 days"),
        (_drop(own_rule_id(VOICE, 42)), "lifecycle-per-kind", "kind=voice of company {c}"),
        (_drop(own_rule_id(TRANSCRIPT, 42)), "lifecycle-per-kind", "transcript of company {c}"),
        (
            _drop("expire-voice-company_43*"),
            "lifecycle-per-kind",
            "companies whose id starts with 43",
        ),
        (_drop("expire-voice-company_4"), "lifecycle-per-kind", "kind=voice of company 4"),
        (
            _own_rule_without_slash_and_short,
            "lifecycle-no-early-expiry",
            "of company {c}0,",
        ),
    ],
    ids=[
        "plain-default-rules",
        "config-without-the-rules",
        "own-voice-rule-dropped",
        "own-transcript-rule-dropped",
        "a-default-prefix-dropped",
        "the-neighbour-id-rule-dropped",
        "own-rule-without-its-slash",
    ],
)
def test_each_way_of_getting_the_rules_wrong_fails_naming_whom_it_hurts(
    mutate: Callable[[Render], None], rule: str, named: str
) -> None:
    assert own_company() == 42  # the ids above are this example's
    render = load_committed(BASE)
    mutate(render)
    found = lifecycle_findings(render)
    wanted = named.format(c=own_company())
    assert any(r == rule and wanted in m for r, m in found), found


def test_the_check_probe_expires_in_the_committed_example_and_its_rule_is_needed() -> None:
    """Issue 26.8: with a company's own retention the default rules select company prefixes;
    the probe's own rule keeps `voice-recordings check`'s versions from being kept for ever."""
    render = load_committed(BASE)
    assert [v for v in check_render(render) if v.rule == "lifecycle-probe-expires"] == []
    _drop(PROBE_RULE_ID)(render)
    (found,) = [v for v in check_render(render) if v.rule == "lifecycle-probe-expires"]
    assert PROBE_KEY in found.message
