"""The effective lifecycle of a bucket, as MinIO applies it: which objects each rule can match,
and what the union of the rules does to each kind of object the stack stores.

The guardrails judge this, not each rule alone: a bucket-wide expiry expires recordings too, and
a rule that also requires a tag no recording carries expires nothing. How MinIO matches (read in
github.com/minio/minio, AGPL, never copied; cited so the facts can be checked):

- ``internal/bucket/lifecycle/filter.go`` (``Filter.TestTags``): a rule matches an object only if
  the object holds *every* tag of the rule's filter, with the same value; a rule without tags
  matches every tag set. The prefix must be a prefix of the key ("" matches every key).
- ``internal/bucket/lifecycle/lifecycle.go`` (``Lifecycle.Eval``): every enabled rule that
  matches is considered, and the earliest due action wins, so the union of the matching rules
  decides, not any one of them.
- ``internal/bucket/lifecycle/expiration.go``: ``ExpiredObjectDeleteMarker`` ("DeleteMarker" in
  the provider) removes delete markers only; ``Days`` and ``Date`` expire current versions.
- One lifecycle configuration per bucket: each ``IlmPolicy`` writes the whole of it
  (infra/provider_contract.py: on_existing="puts"), so with two the last applied wins.

The objects the stack stores are described by :func:`stored_objects`: each kind with exactly the
tags the uploader (and the takeover's tag-existing) gives it, once per class of company ids that
the rules' prefixes and the companies with their own retention tell apart (company 42, the ids
that start with 43, ...), and the untagged objects (outside the layout, or not yet tagged) that the
lifecycle must never expire.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from infra.provider_values import DELETE_MARKER
from voice_recordings.keys import COMPANY_KEY_HEAD, KINDS, kind_spec
from voice_recordings.permissions import PROBE_KEY, PROBE_KIND

Coverage = Literal["all", "some", "none"]
_DAYS: Final = re.compile(r"([0-9]+)d")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LEADING_DIGITS: Final = re.compile(r"[0-9]*")
UNTAGGED: Final = "untagged"
PROBE: Final = "probe"


@dataclass(frozen=True)
class StoredObject:
    """A kind of object the bucket holds: its name, the tags it carries, and the key prefix all
    of them share (None: keys anywhere); for a kind, which company class it stands for."""

    name: str
    tags: Mapping[str, str]
    prefix: str | None
    kind: str = ""
    company: str = ""  # the class's representative id, in digits
    exact: bool = True  # True: that one company; False: every id that starts with its digits

    def describe(self) -> str:
        """``company 42`` or ``companies whose id starts with 43`` (for a finding)."""
        if self.exact:
            return f"company {self.company}"
        return f"companies whose id starts with {self.company}"


def company_classes(
    prefixes: Collection[str], companies: Collection[str]
) -> list[tuple[str, bool]]:
    """Representatives of every class of company ids that the rules' ``prefixes`` and the named
    ``companies`` tell apart: ``(digits, exact)``, exact when the class is that one id.

    A key ``company_{id}/...`` starts with ``company_{d}`` when the id starts with ``d``, and with
    ``company_{d}/`` when it is ``d``: only the digit strings that prefixes and companies spell
    matter. Two ids fall in one class unless one of those strings tells them apart, so the
    strings' own prefixes (one id each) and each of them followed by one more digit (every id
    that continues so, not being a string itself) cover every id once.
    """
    spelt = {str(c) for c in companies}
    for prefix in prefixes:
        if prefix.startswith(COMPANY_KEY_HEAD):
            match = _LEADING_DIGITS.match(prefix, len(COMPANY_KEY_HEAD))
            if match and match[0]:
                spelt.add(match[0])
    nodes = {text[:end] for text in spelt for end in range(1, len(text) + 1)}
    found: list[tuple[str, bool]] = []
    for node in sorted(nodes | {""}, key=lambda n: (len(n), n)):
        if node and not node.startswith("0"):
            found.append((node, True))
        for digit in "0123456789" if node else "123456789":  # no id starts with 0
            if node + digit not in nodes:
                found.append((node + digit, False))
    return found


def stored_objects(prefixes: Collection[str], companies: Collection[str]) -> list[StoredObject]:
    """Every kind of object the bucket holds, per company class (:func:`company_classes`), and
    the untagged objects."""
    stored = [
        StoredObject(
            f"{kind}@{digits}",
            kind_spec(kind).tag,
            f"{COMPANY_KEY_HEAD}{digits}/{kind_spec(kind).folder}/",
            kind,
            digits,
            exact,
        )
        for kind in KINDS
        for digits, exact in company_classes(prefixes, companies)
    ]
    return [*stored, StoredObject(UNTAGGED, {}, None)]


def probe_object() -> StoredObject:
    """``voice-recordings check``'s probe: one key, tagged as its kind, outside every company
    (no ``kind`` here: it belongs to no company's retention)."""
    return StoredObject(PROBE, kind_spec(PROBE_KIND).tag, PROBE_KEY)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class Rule:
    """One lifecycle rule as the provider sends it (``IlmPolicy`` ``rules[]``)."""

    id: str
    enabled: bool
    prefix: str
    tags: Mapping[str, str]
    expiration: str  # "" (none), "<N>d", "YYYY-MM-DD" or "DeleteMarker"
    noncurrent_days: int | None

    @classmethod
    def from_input(cls, raw: Mapping[str, Any]) -> Rule:
        """Read one rule of the render; a missing status is "Enabled" (computed-only: the
        provider writes it, infra/provider_contract.py). A preview's unknown status reads as
        missing too: analyzer.inputs_of leaves an unknown computed-only value out."""
        tags = raw.get("tags") or {}
        noncurrent = raw.get("noncurrentVersionExpirationDays")
        return cls(
            id=str(raw.get("id", "")),
            enabled=str(raw.get("status", "Enabled")) == "Enabled",
            prefix=str(raw.get("filter") or ""),
            tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
            expiration=str(raw.get("expiration") or ""),
            # 0 is "none": minioReadILMPolicy reads a rule without one back as 0, and
            # minio-go v7.0.63 (lifecycle.go) writes no NoncurrentVersionExpiration for 0.
            noncurrent_days=noncurrent if _positive_int(noncurrent) else None,
        )

    @property
    def expiry_days(self) -> int | None:
        """Days after which current versions expire (None: not by age)."""
        match = _DAYS.fullmatch(self.expiration)
        return int(match[1]) if match else None

    @property
    def expiry_date(self) -> str | None:
        """The date on which every matching current version expires, whatever its age."""
        return self.expiration if _DATE.fullmatch(self.expiration) else None

    @property
    def expires_current(self) -> bool:
        """True when the rule expires current versions (by age or by date)."""
        return self.expiration not in ("", DELETE_MARKER)

    def coverage(self, stored: StoredObject) -> Coverage:
        """Which objects of ``stored`` the rule can match (MinIO's Filter: prefix and tags)."""
        if not self.enabled or any(stored.tags.get(k) != v for k, v in self.tags.items()):
            return "none"  # the object lacks one of the rule's tags (filter.go TestTags)
        if not self.prefix:
            return "all"
        if stored.prefix is None:
            return "some"  # keys anywhere: a prefix may match some of them
        if stored.prefix.startswith(self.prefix):
            return "all"  # e.g. company_4 for company_42/voice/...
        # e.g. company_42/voice/2026/ for company_42/voice/...: only some of them.
        return "some" if self.prefix.startswith(stored.prefix) else "none"


@dataclass
class Effect:
    """What the union of a bucket's rules does to one kind of stored object."""

    stored: StoredObject
    # (rule id, days, coverage) of every rule that expires these objects' current versions.
    expiries: list[tuple[str, int, Coverage]] = field(default_factory=list)
    # (rule id, date) of every rule that expires them on a fixed date.
    dated: list[tuple[str, str]] = field(default_factory=list)
    noncurrent: list[tuple[str, int, Coverage]] = field(default_factory=list)

    @property
    def earliest(self) -> tuple[str, int] | None:
        """The rule that expires some of them first, and after how many days (Eval: the
        earliest matching action wins)."""
        if not self.expiries:
            return None
        rule_id, days, _ = min(self.expiries, key=lambda e: e[1])
        return rule_id, days

    @property
    def expired_whole(self) -> bool:
        """True when a rule matching every one of them expires them by age."""
        return any(coverage == "all" for _, _, coverage in self.expiries)

    @property
    def latest(self) -> tuple[str, int] | None:
        """The rule matching every one of them that expires them first: the longest any of
        them can live (None: some of them live for ever)."""
        whole = [(rule_id, days) for rule_id, days, coverage in self.expiries if coverage == "all"]
        return min(whole, key=lambda e: e[1]) if whole else None


def effect(
    rules: Sequence[Rule], companies: Collection[str] = (), prefixes: Collection[str] = ()
) -> dict[str, Effect]:
    """The union of ``rules`` per stored object (:func:`stored_objects`, with the company
    classes of the rules' prefixes, ``companies`` and ``prefixes``), by name. Two lifecycles
    judged with each other's prefixes and companies get the same classes (a review compares
    them class by class)."""
    every = stored_objects([*(rule.prefix for rule in rules), *prefixes], companies)
    effects = {stored.name: Effect(stored) for stored in every}
    candidates = _PrefixIndex(every)
    for rule in rules:  # rule by rule: each object's lists stay in the rules' order
        days, date, noncurrent = rule.expiry_days, rule.expiry_date, rule.noncurrent_days
        for stored in candidates.near(rule.prefix):
            coverage = rule.coverage(stored)
            if coverage == "none":
                continue
            result = effects[stored.name]
            if days is not None:
                result.expiries.append((rule.id, days, coverage))
            if date is not None:
                result.dated.append((rule.id, date))
            if noncurrent is not None:
                result.noncurrent.append((rule.id, noncurrent, coverage))
    return effects


class _PrefixIndex:
    """The stored objects a rule's prefix can match at all (:meth:`Rule.coverage` is "none" for
    every other one): a lifecycle with a rule per company has thousands of company classes, and
    trying every rule on every class was most of the guardrails' time."""

    def __init__(self, stored: Sequence[StoredObject]) -> None:
        self._anywhere = [s for s in stored if s.prefix is None]
        self._by_prefix: dict[str, list[StoredObject]] = {}
        for item in stored:
            if item.prefix is not None:
                self._by_prefix.setdefault(item.prefix, []).append(item)
        self._sorted = sorted(self._by_prefix)

    def near(self, prefix: str) -> list[StoredObject]:
        """Those whose keys start with ``prefix``, or whose prefix starts ``prefix``, or whose
        keys are anywhere."""
        if not prefix:
            return [*self._anywhere, *(s for p in self._sorted for s in self._by_prefix[p])]
        found = list(self._anywhere)
        for end in range(1, len(prefix)):  # shorter prefixes that start this one
            found += self._by_prefix.get(prefix[:end], ())
        at = bisect.bisect_left(self._sorted, prefix)
        while at < len(self._sorted) and self._sorted[at].startswith(prefix):
            found += self._by_prefix[self._sorted[at]]
            at += 1
        return found


def probe_effect(rules: Sequence[Rule]) -> Effect:
    """What ``rules`` do to the probe (:func:`probe_object`)."""
    result = Effect(probe_object())
    for rule in rules:
        coverage = rule.coverage(result.stored)
        if coverage == "none":
            continue
        if rule.expiry_days is not None:
            result.expiries.append((rule.id, rule.expiry_days, coverage))
        if rule.noncurrent_days is not None:
            result.noncurrent.append((rule.id, rule.noncurrent_days, coverage))
    return result


def why_unmatched(rules: Sequence[Rule], stored: StoredObject) -> str:
    """Why the rules that name ``stored``'s tags expire not every one of them (for a finding)."""
    reasons = []
    elsewhere = False
    for rule in rules:
        names_it = any(stored.tags.get(k) == v for k, v in rule.tags.items())
        coverage = rule.coverage(stored)
        if not rule.expires_current or not names_it or coverage == "all":
            continue
        extra = {k: v for k, v in rule.tags.items() if stored.tags.get(k) != v}
        if not rule.enabled:
            reasons.append(f"rule {rule.id!r} is disabled")
        elif extra:
            reasons.append(
                f"rule {rule.id!r} also requires the tags {extra}, which no such object carries "
                f"(MinIO matches only objects holding all of a rule's tags)"
            )
        elif coverage == "some":
            reasons.append(f"rule {rule.id!r} matches only keys under {rule.prefix!r}")
        else:
            elsewhere = True
    if elsewhere and stored.prefix is not None:
        reasons.append(f"no rule's prefix starts their keys ({stored.prefix}...)")
    return "; ".join(reasons)
