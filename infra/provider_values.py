"""What the MinIO provider, and MinIO behind it, accept as a value: the schema's validators.

Each validator takes a value in Pulumi's wire form (or as the render shows it: a policy document
parsed, a secret as ``"[secret]"``) and returns the problem, or None when the value is accepted.
Each names the function of terraform-provider-minio v1.20.1 (or of MinIO) it follows; see
:mod:`infra.provider_contract` for the provider, its version and where each is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Final

from infra.render_format import SECRET_MARKER

Validator = Callable[[Any], "str | None"]  # a problem, or None when the value is accepted


def one_of(*allowed: str) -> Validator:
    """Accepts exactly one of ``allowed`` (the schema's StringInSlice)."""

    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {list(allowed)}, got {value!r}"

    return check


def length(low: int, high: int) -> Validator:
    """Accepts a string of ``low`` to ``high`` characters (StringLenBetween)."""

    def check(value: Any) -> str | None:
        if isinstance(value, str) and low <= len(value) <= high:
            return None
        return f"must be a string of {low} to {high} characters, got {value!r}"

    return check


def pattern(regex: str, what: str) -> Validator:
    """Accepts a string that matches ``regex`` whole; ``what`` is the problem otherwise."""
    compiled = re.compile(regex)

    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and compiled.fullmatch(value) else f"{what}"

    return check


def policy_name(value: Any) -> str | None:
    """An IAM policy name."""
    # validateIAMNamePolicy: at most 96 characters of [\w+=,.@:-].
    if isinstance(value, str) and len(value) <= 96 and re.fullmatch(r"[\w+=,.@:-]*", value):
        return None
    return f"must be at most 96 letters, digits or _+=,.@:-, got {value!r}"


def policy_json(value: Any) -> str | None:
    """A policy document."""
    # validateIAMPolicyJSON: a JSON object (the render shows documents parsed, the wire a string).
    if isinstance(value, Mapping) or value == SECRET_MARKER:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return "must be a JSON policy document"
        return None if isinstance(parsed, dict) else "must be a JSON object"
    return f"must be a JSON policy document, got {value!r}"


_EXPIRATION_DAYS: Final = re.compile(r"([0-9]+)d")
DELETE_MARKER: Final = "DeleteMarker"


def expiration(value: Any) -> str | None:
    """A lifecycle rule's expiration."""
    # parseILMExpiration / validateILMExpiration: "<N>d", a date "YYYY-MM-DD", or "DeleteMarker".
    # The provider accepts "0d" or "-1d" at plan time; MinIO refuses them at apply
    # (internal/bucket/lifecycle/expiration.go: "Days must be positive integer"), so do we.
    text = str(value)
    if text == DELETE_MARKER:
        return None
    days = _EXPIRATION_DAYS.fullmatch(text)
    if days and int(days[1]) >= 1:
        return None
    problem = f'must be "<N>d" with N >= 1, a date (1970-01-01) or "DeleteMarker", got {value!r}'
    # Go's time.Parse("2006-01-02"): exactly this form (fromisoformat alone takes 20260115 too).
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return problem
    try:
        date.fromisoformat(text)
    except ValueError:
        return problem
    return None


def at_least_one(value: Any) -> str | None:
    """A noncurrent version's days before expiry."""
    # validateILMNoncurrentVersionExpiration: "must be strictly positive".
    return None if isinstance(value, int) and value >= 1 else f"must be >= 1, got {value!r}"


def boolean_config(value: Any) -> str | None:
    """A boolean."""
    # Provider config travels as strings on the wire ("true"), resources' bools as bools.
    return None if value in (True, False, "true", "false") else f"must be a boolean, got {value!r}"


USER_NAME: Final = pattern(
    r"[0-9A-Za-z=,.@\-_+]+",  # StaticUserNamePattern (or an LDAP DN, which we never use)
    "must be letters, digits or =,.@-_+ (resource_minio_iam_user.go StaticUserNamePattern)",
)

# What a lifecycle rule may hold, by kind of rule: MinIO refuses the rest
# (internal/bucket/lifecycle/rule.go, expiration.go, and.go in github.com/minio/minio).
RULE_ID_MAX: Final = 255
# Lifecycle.Validate (internal/bucket/lifecycle/lifecycle.go): "Lifecycle configuration allows a
# maximum of 1000 rules"; the whole put is refused.
LIFECYCLE_MAX_RULES: Final = 1000
