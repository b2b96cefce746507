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

The objects the stack stores are described by :data:`STORED_OBJECTS`: each kind with exactly the
tags the uploader (and the takeover's tag-existing) gives it, and the untagged objects (outside
the layout, or not yet tagged) that the lifecycle must never expire.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from infra.provider_contract import DELETE_MARKER
from voice_recordings.keys import KINDS, kind_spec

Coverage = Literal["all", "some", "none"]
_DAYS: Final = re.compile(r"([0-9]+)d")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Every key of the layout starts with this (company_{id}/...); the check's probe does not.
LAYOUT_PREFIX: Final = "company_"
UNTAGGED: Final = "untagged"


@dataclass(frozen=True)
class StoredObject:
    """A kind of object the bucket holds: its name, the tags it carries, whether in the layout."""

    name: str
    tags: Mapping[str, str]
    in_layout: bool  # True: every key follows the layout (company_{id}/...); False: anywhere


STORED_OBJECTS: Final = (
    *(StoredObject(kind, kind_spec(kind).tag, True) for kind in KINDS),
    StoredObject(UNTAGGED, {}, False),
)


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
        """Read one rule of the render; a missing status is "Enabled" (the provider writes
        it: infra/provider_contract.py)."""
        tags = raw.get("tags") or {}
        noncurrent = raw.get("noncurrentVersionExpirationDays")
        return cls(
            id=str(raw.get("id", "")),
            enabled=str(raw.get("status", "Enabled")) == "Enabled",
            prefix=str(raw.get("filter") or ""),
            tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
            expiration=str(raw.get("expiration") or ""),
            noncurrent_days=noncurrent if isinstance(noncurrent, int) else None,
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
        if not stored.in_layout:
            return "some"  # keys anywhere: a prefix may match some of them
        if LAYOUT_PREFIX.startswith(self.prefix):
            return "all"
        return "some" if self.prefix.startswith(LAYOUT_PREFIX) else "none"


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


def effect(rules: Sequence[Rule]) -> dict[str, Effect]:
    """The union of ``rules`` per stored object (:data:`STORED_OBJECTS`), by name."""
    effects = {stored.name: Effect(stored) for stored in STORED_OBJECTS}
    for stored in STORED_OBJECTS:
        result = effects[stored.name]
        for rule in rules:
            coverage = rule.coverage(stored)
            if coverage == "none":
                continue
            if rule.expiry_days is not None:
                result.expiries.append((rule.id, rule.expiry_days, coverage))
            if rule.expiry_date is not None:
                result.dated.append((rule.id, rule.expiry_date))
            if rule.noncurrent_days is not None:
                result.noncurrent.append((rule.id, rule.noncurrent_days, coverage))
    return effects


def why_unmatched(rules: Sequence[Rule], stored: StoredObject) -> str:
    """Why the rules that name ``stored``'s tags expire not every one of them (for a finding)."""
    reasons = []
    for rule in rules:
        names_it = any(stored.tags.get(k) == v for k, v in rule.tags.items())
        if not rule.expires_current or not names_it or rule.coverage(stored) == "all":
            continue
        extra = {k: v for k, v in rule.tags.items() if stored.tags.get(k) != v}
        if not rule.enabled:
            reasons.append(f"rule {rule.id!r} is disabled")
        elif extra:
            reasons.append(
                f"rule {rule.id!r} also requires the tags {extra}, which no such object carries "
                f"(MinIO matches only objects holding all of a rule's tags)"
            )
        else:
            reasons.append(f"rule {rule.id!r} matches only keys under {rule.prefix!r}")
    return "; ".join(reasons)
