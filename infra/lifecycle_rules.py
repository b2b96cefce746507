"""The bucket's lifecycle rules, from the stack config: each kind's retention, and the retention of
the companies whose contract sets their own (``voice-recordings:companyRetention``).

Rules select a kind by its tag, because the company id leads the key: no prefix selects every
recording. MinIO applies the *earliest* expiry of every enabled rule an object matches
(internal/bucket/lifecycle/lifecycle.go ``Lifecycle.Eval``; policies/guardrails/lifecycle.py), and a
filter cannot say "except": a rule for the default retention that matched a company's objects
would cut that company's longer retention short. So, when some company has its own retention:

- that company's rules select ``company_{id}/`` (the slash ends the id) and the kind tag;
- the default rules select the kind tag and one of a set of key prefixes that together match
  every other company id, and none of these: the complement of the companies with their own
  retention, spelt in digits. For company 42: ``company_1`` ... ``company_3``, ``company_5`` ...
  ``company_9`` (every id that starts with another digit), ``company_4/`` (id 4 itself),
  ``company_40`` ... ``company_49`` but ``company_42`` (longer ids starting with 4), and
  ``company_420`` ... ``company_429`` (ids that continue 42). Ids have no leading zero
  (voice_recordings.keys), so ``company_0`` never starts a key.

Nothing is re-tagged and the runtime knows nothing of it: a company's own retention applies to
every object of it already stored, from the next ``pulumi up``. The price is the number of rules,
about 9 per digit of each such id per kind, within MinIO's 1000
(infra/provider_contract.py ``LIFECYCLE_MAX_RULES``). Without such a company the rules are one
per kind, with no prefix, as before.

The rules' order means nothing to MinIO (every matching rule is considered), but everything to a
reviewer: the engine diffs the ``rules`` list index by index, so a rule that moves reads as every
field of one rule changing into another's (``expire-voice 60d => 30d``, false). The order is
therefore the one where a change of one company's retention moves the fewest rules
(:func:`rule_position`): the delete-marker rule first, whatever else changes; then the rules
grouped by the node of the digit trie whose children they select (``company_4`` holds ``company_40``
... ``company_49``), the groups in order of the smallest company id under them. A company added
with a larger id than every other company of its own appends its groups, and the rule it splits
(``company_7`` for company 7) is taken over, in place, by that company's own rule or by the rule
for its id alone (``company_7/``); changing one company's days changes one rule per kind in place.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from infra.provider_values import DELETE_MARKER
from voice_recordings.keys import COMPANY_KEY_HEAD, KINDS, Kind, company_prefix
from voice_recordings.permissions import PROBE_KIND, PROBE_PREFIX

# The bucket-wide rule that removes a delete marker once no version is left behind it. MinIO
# matches a tag filter against the object's tags, and a delete marker has none: the per-kind rules
# can never remove one (minio internal/bucket/lifecycle). It has no tag and no other action, so it
# never expires an object: untagged objects are kept until someone tags or deletes them.
DELETE_MARKER_RULE_ID: Final = "expire-delete-markers"
_DIGITS: Final = "0123456789"
# The rule for `voice-recordings check`'s probe once the default rules select company prefixes
# (none of which matches healthcheck/): without it every check would add a version that never
# expires. It keeps what the bucket-wide rule gave the probe: its kind's retention.
PROBE_RULE_ID: Final = f"expire-{PROBE_KIND}-healthcheck"


@dataclass(frozen=True)
class LifecycleRule:
    """One ``IlmPolicy`` rule: an id, a key prefix ("" for every key), the tags an object must
    hold, its expiry ("<N>d" or DeleteMarker) and the noncurrent versions' expiry in days."""

    id: str
    prefix: str
    tags: Mapping[str, str]
    expiration: str
    noncurrent_days: int | None = None


def default_prefixes(own_retention: Collection[int]) -> list[str]:
    """Key prefixes that match every ``company_{id}/`` key except those of ``own_retention``,
    each company by exactly one of them (``[""]`` when there is no such company)."""
    if not own_retention:
        return [""]
    excluded = {str(company) for company in own_retention}
    nodes = {text[:end] for text in excluded for end in range(1, len(text) + 1)}
    found: list[str] = []

    def walk(digits: str) -> None:
        if digits and digits not in excluded:
            found.append(company_prefix(digits))  # the id itself: company_4/
        for digit in _DIGITS if digits else _DIGITS[1:]:  # no id starts with 0
            longer = digits + digit
            if longer in nodes:
                walk(longer)
            else:
                found.append(COMPANY_KEY_HEAD + longer)  # every id that starts so

    walk("")
    return found


def _default_rule_id(kind: Kind, prefix: str) -> str:
    if not prefix:
        return f"expire-{kind}"
    if prefix.endswith("/"):
        return f"expire-{kind}-{prefix[:-1]}"  # company_4: that id only
    return f"expire-{kind}-{prefix}*"  # company_43*: every id that starts so


def own_rule_id(kind: Kind, company_id: int) -> str:
    """The id of the rule that expires ``kind`` of a company with its own retention."""
    return f"expire-{kind}-{company_prefix(company_id)[:-1]}-own"


def rule_position(prefix: str, own_retention: Collection[int]) -> tuple[int, int, str]:
    """Where the rules selecting ``prefix`` stand in the lifecycle (the module's docstring says
    why): ``(group, depth, digit)``, the group being the smallest id of ``own_retention`` under the
    prefix's parent node (0 for the first digit), so that ids keep their places as companies come
    and go. Kinds of one prefix stand together, in :data:`KINDS` order, after this position."""
    digits = prefix.removeprefix(COMPANY_KEY_HEAD).removesuffix("/")
    parent = digits[:-1]
    under = [company for company in own_retention if str(company).startswith(parent)]
    group = min(under) if parent and under else 0
    return group, len(parent), digits[-1:]


def lifecycle_rules(
    retention_days: Mapping[Kind, int],
    company_retention: Mapping[int, Mapping[Kind, int]],
    noncurrent_days: int,
) -> list[LifecycleRule]:
    """Every rule of the bucket's lifecycle: the delete-marker rule, then per key prefix and kind
    the default retention for every company without its own and each company's own retention, in
    :func:`rule_position` order."""
    own = company_retention.keys()
    placed: list[tuple[tuple[int, int, str], Kind, LifecycleRule]] = []
    for kind, spec in sorted(KINDS.items()):
        for prefix in default_prefixes(own):
            rule = LifecycleRule(
                _default_rule_id(kind, prefix),
                prefix,
                spec.tag,
                f"{retention_days[kind]}d",
                noncurrent_days,
            )
            placed.append((rule_position(prefix, own), kind, rule))
        for company, days in company_retention.items():
            rule = LifecycleRule(
                own_rule_id(kind, company),
                company_prefix(company),
                spec.tag,
                f"{days[kind]}d",
                noncurrent_days,
            )
            placed.append((rule_position(rule.prefix, own), kind, rule))
    placed.sort(key=lambda entry: entry[:2])
    marker = LifecycleRule(DELETE_MARKER_RULE_ID, "", {}, DELETE_MARKER)
    return [marker, *_probe_rule(retention_days, own, noncurrent_days), *(r for *_, r in placed)]


def _probe_rule(
    retention_days: Mapping[Kind, int], own_retention: Collection[int], noncurrent_days: int
) -> list[LifecycleRule]:
    """The probe's own rule, when the default rules no longer match every key; it stands
    second, after the delete-marker rule, so companies coming and going never move it."""
    if not own_retention:
        return []  # the bucket-wide per-kind rule matches the probe
    return [
        LifecycleRule(
            PROBE_RULE_ID,
            PROBE_PREFIX,
            KINDS[PROBE_KIND].tag,
            f"{retention_days[PROBE_KIND]}d",
            noncurrent_days,
        )
    ]
