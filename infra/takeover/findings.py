"""The survey's result: what the server holds, and each finding with its severity and action."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from infra.takeover.server import StoredObject, keep_sample

Severity = Literal["info", "action", "warning", "decision"]
# "decision" findings make the survey exit 1: adopting as configured would change something
# that someone must choose knowingly. "action" is a runbook step; "warning" needs a look.
SEVERITIES: Final[tuple[Severity, ...]] = ("decision", "warning", "action", "info")


def as_json(report: Any, **renamed: str) -> dict[str, Any]:
    """A report dataclass's fields as a JSON object, in their order, those in ``renamed`` under
    the name given there."""
    return {renamed.get(k, k): v for k, v in dataclasses.asdict(report).items()}


@dataclass(frozen=True)
class Finding:
    """Something the operator must know before adopting, and what to do about it."""

    id: str
    severity: Severity
    message: str
    action: str

    def to_json(self) -> dict[str, str]:
        """As a JSON object."""
        return as_json(self)


@dataclass
class ObjectCounts:
    """What the bucket holds, by how the lifecycle will see it."""

    total: int = 0
    conforming: int = 0
    untagged: int = 0
    mistagged: int = 0
    nonconforming: int = 0
    nonconforming_sample: list[str] = field(default_factory=list)
    # The steward's erasure markers (erasures/): kept as they are, never advised away.
    erasure_markers: int = 0
    untagged_sample: list[str] = field(default_factory=list)
    mistagged_sample: list[str] = field(default_factory=list)

    def add(self, item: StoredObject, sample: int) -> None:
        """Count one object version."""
        self.total += 1
        if item.erasure_marker:
            self.erasure_markers += 1
            return
        if not item.conforming:
            self.nonconforming += 1
            keep_sample(self.nonconforming_sample, item.label, sample)
            return
        self.conforming += 1
        if item.untagged:
            self.untagged += 1
            keep_sample(self.untagged_sample, item.label, sample)
        elif item.mistagged:
            self.mistagged += 1
            keep_sample(self.mistagged_sample, item.label, sample)

    def to_json(self) -> dict[str, Any]:
        """As a JSON object (samples are the first N, in listing order)."""
        return as_json(
            self,
            nonconforming_sample="nonconforming_keys",
            mistagged_sample="mistagged_keys",
        )


@dataclass
class Survey:
    """The survey's result: what the server holds and the findings against the stack."""

    stack: str
    endpoint: str
    bucket: str
    adopt_existing: bool
    bucket_exists: bool
    versioning: str = "Off"
    lifecycle_rules: list[dict[str, Any]] = field(default_factory=list)
    bucket_policy: dict[str, Any] | None = None
    anonymous_access: list[dict[str, Any]] = field(default_factory=list)
    encryption: dict[str, Any] | None = None
    objects: ObjectCounts = field(default_factory=ObjectCounts)
    findings: list[Finding] = field(default_factory=list)
    identity_commands: list[dict[str, str]] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        """True when no finding needs a decision."""
        return not any(f.severity == "decision" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "stack": self.stack,
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "adopt_existing": self.adopt_existing,
            "bucket_exists": self.bucket_exists,
            "versioning": self.versioning,
            "lifecycle_rules": self.lifecycle_rules,
            "bucket_policy": self.bucket_policy,
            "anonymous_access": self.anonymous_access,
            "encryption": self.encryption,
            "objects": self.objects.to_json(),
            "findings": [f.to_json() for f in self.findings],
            "identities": self.identity_commands,
            "safe": self.safe,
        }
