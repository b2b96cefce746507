"""MinIO's ILM rules (the ``IlmPolicy`` inputs) translated to S3 lifecycle rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from devtools.provision.model import ProvisionError
from infra.provider_contract import DELETE_MARKER

_DAYS_RE: Final = re.compile(r"([1-9][0-9]*)d")


def _days(rule_id: str, field_name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _DAYS_RE.fullmatch(str(value))
    if match is None:
        raise ProvisionError(f"ILM rule {rule_id!r}: {field_name} must be '<N>d', got {value!r}")
    return int(match[1])


def lifecycle_rules(rules: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """MinIO ILM rules (the ``IlmPolicy`` inputs) as S3 lifecycle rules.

    ``expiration: "30d"`` -> ``Expiration.Days``; ``tags`` -> ``Filter.Tag`` (one tag) or
    ``Filter.And`` (several, or tags with a prefix); ``filter`` (a prefix) -> ``Filter.Prefix``;
    ``noncurrentVersionExpirationDays`` -> ``NoncurrentVersionExpiration.NoncurrentDays``.
    """
    # No "status": the provider refuses one (computed-only) and always writes Enabled.
    known = {"id", "expiration", "tags", "filter", "noncurrentVersionExpirationDays"}
    translated = []
    for rule in rules:
        rule_id = str(rule.get("id", ""))
        unknown = set(rule) - known
        if not rule_id or unknown:
            raise ProvisionError(
                f"ILM rule {rule_id!r}: needs an id; unsupported fields {sorted(unknown)}"
            )
        tags = [{"Key": k, "Value": v} for k, v in sorted((rule.get("tags") or {}).items())]
        prefix = rule.get("filter") or ""
        filter_: dict[str, Any]
        if len(tags) == 1 and not prefix:
            filter_ = {"Tag": tags[0]}
        elif tags:
            filter_ = {"And": {"Tags": tags, **({"Prefix": prefix} if prefix else {})}}
        else:
            filter_ = {"Prefix": prefix}
        out: dict[str, Any] = {
            "ID": rule_id,
            "Status": "Enabled",
            "Filter": filter_,
        }
        if rule.get("expiration") == DELETE_MARKER:
            # The provider's "DeleteMarker": remove a delete marker no version is left behind.
            out["Expiration"] = {"ExpiredObjectDeleteMarker": True}
        elif rule.get("expiration"):
            out["Expiration"] = {"Days": _days(rule_id, "expiration", rule["expiration"])}
        if rule.get("noncurrentVersionExpirationDays"):
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": _days(
                    rule_id,
                    "noncurrentVersionExpirationDays",
                    rule["noncurrentVersionExpirationDays"],
                )
            }
        translated.append(out)
    return translated
