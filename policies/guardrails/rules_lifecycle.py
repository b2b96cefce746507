"""The lifecycle: every recording and transcript of every company expires at its retention (the
stack's or its company's own), never before; the probe's old versions expire; one IlmPolicy.
What MinIO applies is modelled by ``lifecycle.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from infra.render_format import LIFECYCLE
from policies.guardrails import model
from policies.guardrails.lifecycle import (
    UNTAGGED,
    Effect,
    Rule,
    StoredObject,
    effect,
    probe_effect,
    why_unmatched,
)
from policies.guardrails.model import ADVISORY, MANDATORY, Finding, Resource, StackContext
from voice_recordings.keys import KIND_TAG_KEY, KINDS
from voice_recordings.permissions import PROBE_KEY, PROBE_PREFIX

# The retention docs/operating.md recommends, per kind (days): long enough to handle a complaint
# about a call, short enough that personal data does not pile up for ever (5 years at most).
RECOMMENDED_RETENTION_DAYS: Final[Mapping[str, tuple[int, int]]] = {
    kind: (30, 1825) for kind in KINDS
}


# This subject's rules, in declaration order (policies/guardrails/rules.py lists them all).
RULES: Final = model.Catalogue()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _expiry_days(rule: Mapping[str, Any]) -> int | None:
    return Rule.from_input(rule).expiry_days


def _lifecycle_rules(resources: Sequence[Resource], ctx: StackContext) -> list[Mapping[str, Any]]:
    rules: list[Mapping[str, Any]] = []
    for resource in model.for_bucket(resources, LIFECYCLE, ctx.bucket):
        rules.extend(r for r in _as_list(resource.known("rules")) if isinstance(r, Mapping))
    # No rule carries a status: the provider refuses one (computed-only) and writes "Enabled"
    # itself (infra/provider_contract.py), so every rule of the render is an enabled rule; a
    # preview's unknown status never reaches here (analyzer.inputs_of leaves it out).
    return rules


def _rules_for_kind(rules: list[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [r for r in rules if (r.get("tags") or {}).get(KIND_TAG_KEY) == kind]


def effective_rules(resources: Sequence[Resource], ctx: StackContext) -> list[Rule]:
    """The lifecycle MinIO applies to the bucket: the last IlmPolicy's rules (each one writes
    the whole configuration; lifecycle-one-policy reports a second one)."""
    policies = model.for_bucket(resources, LIFECYCLE, ctx.bucket)
    if not policies:
        return []
    raw = _as_list(policies[-1].known("rules"))
    return [Rule.from_input(r) for r in raw if isinstance(r, Mapping)]


def _wanted(stored: StoredObject, ctx: StackContext) -> int | None:
    """The retention of ``stored``: its company's own, else the stack's for its kind."""
    own = ctx.company_retention.get(stored.company) if stored.exact else None
    return (own or {}).get(stored.kind) or ctx.retention_days.get(stored.kind)


def _objects_of(kind: str, stored: Sequence[StoredObject], of_kind: int) -> str:
    """``objects tagged kind=voice`` (every company) or ``... of company 42, ...`` (some)."""
    what = f"objects tagged {KIND_TAG_KEY}={kind}"
    if len(stored) == of_kind:
        return what
    names = [s.describe() for s in stored]
    more = f" and {len(names) - 3} more classes of ids" if len(names) > 3 else ""
    return f"{what} of {', '.join(names[:3])}{more}"


def _by_kind(effects: Mapping[str, Effect]) -> dict[str, list[Effect]]:
    grouped: dict[str, list[Effect]] = {kind: [] for kind in KINDS}
    for result in effects.values():
        if result.stored.kind:
            grouped[result.stored.kind].append(result)
    return grouped


def _effects(
    resources: Sequence[Resource], ctx: StackContext
) -> tuple[list[Rule], dict[str, Effect]]:
    rules = effective_rules(resources, ctx)
    return rules, effect(rules, ctx.company_retention)


@RULES.stack("lifecycle-per-kind", MANDATORY)
def check_lifecycle_per_kind(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """The lifecycle expires every recording and every transcript of every company at its retention.

    The effective lifecycle expires every object of both kinds, of every company: a rule
    whose filter matches every object the uploader tags with the kind (MinIO matches only objects
    holding all of a rule's tags, so an extra tag or a prefix makes a rule expire some or none of
    them), and none lives past its retention (the stack's, or its company's own)."""
    rules, effects = _effects(resources, ctx)
    for kind, results in _by_kind(effects).items():
        never = [r.stored for r in results if not r.expired_whole]
        if never:
            why = why_unmatched(rules, never[0])
            whom = _objects_of(kind, never, len(results))
            yield Finding(
                f"no enabled lifecycle rule expires every one of the {whom}"
                + (f": {why}." if why else "."),
                f"add an IlmPolicy rule with exactly the tags {{'{KIND_TAG_KEY}': '{kind}'}} "
                "and expiration '<N>d' for them (no filter, when every company has the stack's "
                "retention).",
            )
        late: dict[tuple[str, int, int], list[StoredObject]] = {}
        for result in results:
            latest, wanted = result.latest, _wanted(result.stored, ctx)
            if latest is not None and wanted is not None and latest[1] > wanted:
                late.setdefault((*latest, wanted), []).append(result.stored)
        for (rule_id, days, wanted), stored in sorted(late.items()):
            whom = _objects_of(kind, stored, len(results))
            yield Finding(
                f"the {whom} live {days} days (rule {rule_id!r}), "
                f"past their retention of {wanted} days.",
                f"give rule {rule_id!r} the retention, or a rule of {wanted} days for them.",
            )


@RULES.stack("lifecycle-no-early-expiry", MANDATORY)
def check_lifecycle_no_early_expiry(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """No lifecycle rule expires a recording or transcript before its retention, or an untagged
    object at all.

    The union of the rules, per kind of stored object and class of company: nothing expires
    a kind sooner than its retention (the stack's, or the company's own: the earliest matching
    rule wins, so a default rule must not match a company with a longer retention), nothing
    expires on a fixed date, and untagged objects (old recordings not yet tagged, anything outside
    the layout) are never expired: a bucket-wide rule may only remove expired delete markers."""
    _, effects = _effects(resources, ctx)
    for kind, results in _by_kind(effects).items():
        early: dict[tuple[str, int, int], list[StoredObject]] = {}
        dated: dict[tuple[str, str], list[StoredObject]] = {}
        for result in results:
            earliest, wanted = result.earliest, _wanted(result.stored, ctx)
            if earliest is not None and wanted is not None and earliest[1] < wanted:
                early.setdefault((*earliest, wanted), []).append(result.stored)
            for rule_id, date in result.dated:
                dated.setdefault((rule_id, date), []).append(result.stored)
        for (rule_id, days, wanted), stored in sorted(early.items()):
            yield Finding(
                f"rule {rule_id!r} expires {_objects_of(kind, stored, len(results))} after {days} "
                f"days, before their retention of {wanted} days (MinIO applies the earliest "
                "matching rule).",
                f"narrow rule {rule_id!r} to other objects (tags, or prefixes that leave those "
                "companies out), or give it the retention.",
            )
        for (rule_id, date), stored in sorted(dated.items()):
            whom = _objects_of(kind, stored, len(results))
            yield Finding(
                f"rule {rule_id!r} expires every one of the {whom} on {date}, whatever its age.",
                f"expire by age ('<N>d'), not on a date, in rule {rule_id!r}.",
            )
    untagged = effects[UNTAGGED]
    for rule_id, days, _ in untagged.expiries:
        yield Finding(
            f"rule {rule_id!r} expires objects without a {KIND_TAG_KEY} tag after {days} days "
            "(it has no tag filter): old recordings not yet tagged, and everything else in the "
            "bucket, would go with it.",
            f"select by tags {{'{KIND_TAG_KEY}': '<kind>'}}, or make it a delete-marker rule "
            "(expiration 'DeleteMarker', nothing else).",
        )
    for rule_id, date in untagged.dated:
        yield Finding(
            f"rule {rule_id!r} expires objects without a {KIND_TAG_KEY} tag on {date}.",
            f"select by tags {{'{KIND_TAG_KEY}': '<kind>'}}.",
        )
    for rule_id, days, _ in untagged.noncurrent:
        yield Finding(
            f"rule {rule_id!r} expires noncurrent versions of objects without a {KIND_TAG_KEY} "
            f"tag after {days} days: an overwritten untagged recording would lose its history.",
            "put noncurrentVersionExpirationDays only on the per-kind rules.",
        )


@RULES.stack("lifecycle-probe-expires", MANDATORY)
def check_lifecycle_probe_expires(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """A lifecycle rule expires `voice-recordings check`'s probe and its old versions.

    Every ``check`` overwrites its probe, leaving a noncurrent version: without a rule that
    matches the probe (its key and its tag) and expires noncurrent versions, each health check
    adds a version kept for ever. Default rules narrowed to company prefixes (a company with its
    own retention) no longer match it."""
    rules = effective_rules(resources, ctx)
    if not rules:
        return  # no lifecycle at all: lifecycle-per-kind says so
    probe = probe_effect(rules)
    if not any(coverage == "all" for *_, coverage in probe.noncurrent):
        yield Finding(
            f"no enabled lifecycle rule expires the old versions of {PROBE_KEY} (tagged "
            f"{dict(probe.stored.tags)}): every `voice-recordings check` adds one kept for ever.",
            f"add a rule with prefix {PROBE_PREFIX!r}, the tags {dict(probe.stored.tags)}, an "
            "expiration '<N>d' and noncurrentVersionExpirationDays (infra/lifecycle_rules.py).",
        )


@RULES.stack("lifecycle-one-policy", MANDATORY)
def check_lifecycle_one_policy(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """The bucket has one IlmPolicy (each writes the whole lifecycle; the last applied wins).

    One lifecycle per bucket: a second IlmPolicy would replace the first's rules."""
    policies = model.for_bucket(resources, LIFECYCLE, ctx.bucket)
    for extra in policies[1:]:
        yield Finding(
            f"a second IlmPolicy for {ctx.bucket!r} (besides {policies[0].label}): each one "
            "writes the bucket's whole lifecycle, so whichever is applied last wins.",
            "put every rule in one IlmPolicy.",
            extra,
        )


@RULES.stack("retention-in-range", ADVISORY)
def check_retention_range(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """Retention is within the recommended range (docs/operating.md); noncurrent versions expire.

    Advisory: retention within the recommended range (docs/operating.md); noncurrent too."""
    rules = _lifecycle_rules(resources, ctx)
    found: dict[str, str] = {}  # problem -> fix, once each: a kind has a rule per company class
    for kind, (low, high) in RECOMMENDED_RETENTION_DAYS.items():
        for rule in _rules_for_kind(rules, kind):
            days = _expiry_days(rule)
            if days is not None and not low <= days <= high:
                found[
                    f"{kind} objects expire after {days} days, outside the recommended "
                    f"{low}..{high}."
                ] = (
                    f"set the {kind} retention between {low} and {high} days, or record why not "
                    "in the pull request."
                )
            if not rule.get("noncurrentVersionExpirationDays"):
                found[
                    f"noncurrent versions of {kind} objects never expire, so deleted calls stay."
                ] = "set noncurrentVersionExpirationDays on the rule."
    for problem, fix in found.items():
        yield Finding(problem, fix)
