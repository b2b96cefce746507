"""Every rule passes the real desired state and fails a mutated one, in both runners."""

from __future__ import annotations

import pytest

from infra.render import render_stack
from policies.guardrails import model, rules
from policies.guardrails.offline import check_render
from policies.guardrails.rules_lifecycle import RECOMMENDED_RETENTION_DAYS
from tests import docs
from tests.guardrails.cases import CASES, PASSING_ADDITIONS, Case
from tests.guardrails.packrun import pack_violations
from tests.guardrails.renders import COMMITTED_STACKS, PUBLIC, Render, load

LEVELS = rules.RULE_LEVELS
# Each case on every render it applies to: committed cases on each committed stack.
CASE_PARAMS = [
    pytest.param(case, base, id=f"{case.id}-{base}")
    for case in CASES
    for base in (COMMITTED_STACKS if case.base == "committed" else [PUBLIC])
]
# The pack and the offline runner share every check; what the pack adds is its plumbing (the
# analyzer's shape, levels, messages), which does not depend on the render. So each case runs in
# the pack on one render, the committed stacks taken in turn: every case and every stack is still
# seen by the pack, at a quarter of the cost (each pack run is a policy-pack round trip).


def _pack_base(n: int, case: Case) -> str:
    return COMMITTED_STACKS[n % len(COMMITTED_STACKS)] if case.base == "committed" else PUBLIC


PACK_PARAMS = [
    pytest.param(case, _pack_base(n, case), id=f"{case.id}-{_pack_base(n, case)}")
    for n, case in enumerate(CASES)
]


def offline_violations(render: Render) -> set[tuple[str, str]]:
    return {(v.rule, v.message) for v in check_render(render)}


def test_every_rule_has_a_failing_case() -> None:
    covered = {case.rule for case in CASES} | {"public-recordings-notice", *PASSING_ADDITIONS}
    assert covered == set(rules.ALL_RULE_NAMES)


def test_committed_renders_break_no_rule_but_the_encryption_advisory(committed: Render) -> None:
    # The program does not configure SSE (it needs a KMS key on the server): reported, not fatal.
    assert {rule for rule, _ in offline_violations(committed)} == {"encryption-configured"}


def test_a_stack_that_names_a_kms_key_breaks_no_rule() -> None:
    encrypted = render_stack("prod", {"voice-recordings:encryptionKeyId": "voice-recordings-key"})
    assert offline_violations(encrypted) == set()


@pytest.mark.parametrize("rule", sorted(PASSING_ADDITIONS))
def test_rule_passes_once_the_state_has_what_it_asks(rule: str, committed: Render) -> None:
    PASSING_ADDITIONS[rule](committed)
    assert offline_violations(committed) == set()
    assert pack_violations(committed) == set()


def test_acknowledged_public_recordings_pass_with_a_notice(public: Render) -> None:
    found = check_render(public)
    assert not [v for v in found if v.level == model.MANDATORY]
    notice = [v for v in found if v.rule == "public-recordings-notice"]
    assert len(notice) == 1 and notice[0].level == model.ADVISORY
    assert "S3BucketPolicy 'public-recordings-policy'" in notice[0].message


@pytest.mark.parametrize(("case", "base"), CASE_PARAMS)
def test_offline_runner_fails_the_mutation(case: Case, base: str) -> None:
    render = load(base)
    before = offline_violations(render)
    case.mutate(render)
    found = [v for v in check_render(render) if (v.rule, v.message) not in before]
    mine = [v for v in found if v.rule == case.rule]
    assert mine, f"{case.id}: {case.rule} did not fire; got {[v.line() for v in found]}"
    for violation in mine:
        assert violation.level == LEVELS[case.rule]
        # The message names the resource (or the stack), the rule and the fix.
        assert f"breaks '{case.rule}'" in violation.message
        assert " Fix: " in violation.message
        assert "hunter2" not in violation.message and "minio123" not in violation.message


@pytest.mark.parametrize(("case", "base"), PACK_PARAMS)
def test_policy_pack_reports_what_the_offline_runner_reports(case: Case, base: str) -> None:
    render = load(base)
    case.mutate(render)
    offline, in_pack = offline_violations(render), pack_violations(render)
    if case.pack_sees_it:
        assert in_pack == offline
        assert case.rule in {rule for rule, _ in in_pack}
    else:
        # Only retainOnDelete: the analyzer protocol does not carry it; the render does.
        assert offline - in_pack and {rule for rule, _ in offline - in_pack} == {case.rule}


def test_policy_pack_agrees_on_the_clean_states(committed: Render, public: Render) -> None:
    assert pack_violations(committed) == offline_violations(committed)
    assert pack_violations(public) == offline_violations(public)


def test_readme_lists_every_rule_at_its_level_and_the_recommended_range() -> None:
    section = docs.section(docs.OPERATING, "Reviewing a change")
    for name, level in rules.RULE_LEVELS.items():
        assert f"| `{name}` | {level} |" in section, name
    for low, high in set(RECOMMENDED_RETENTION_DAYS.values()):
        assert f"{low} to {high} days" in section
