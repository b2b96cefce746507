"""The stack config's value rules: each takes the full key name and the raw string, and returns
the typed value or raises :class:`StackConfigError` naming the key, the rule and the value.

``infra/config.py`` lists which key takes which rule; the rules that hand a value to the Voice AI
(bucket, endpoint, region, URLs) stay there, beside the runtime validators they call.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from voice_recordings import KINDS, Kind
from voice_recordings.endpoints import has_space_or_control
from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import validate_company_id

MAX_RETENTION_DAYS: Final = 36500  # 100 years: anything longer is a typo, not a retention period.


class StackConfigError(ValueError):
    """A stack config value is missing, malformed or unknown (one line: full key, rule, value)."""


class ConfigKey(NamedTuple):
    """One config key (``infra/config.py`` lists them): the ``StackConfig`` attribute it sets,
    its rule and, in one line, what it means (docs/operating.md's table, ``make docs``)."""

    attr: str
    rule: Callable[[str, str], Any]
    description: str


def whole_days(name: str, raw: str) -> int:
    """A retention in days: a whole number from 1 to MAX_RETENTION_DAYS."""
    text = raw.strip()
    if not re.fullmatch(r"-?[0-9]+", text) or not 1 <= int(text) <= MAX_RETENTION_DAYS:
        raise StackConfigError(
            f"{name} must be a whole number of days >= 1 (at most {MAX_RETENTION_DAYS}), "
            f"got {raw!r}"
        )
    return int(text)


class _DuplicateKey(Exception):
    """A JSON object names a key twice (json.loads would keep the last silently)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def company_retention(name: str, raw: str) -> dict[int, dict[Kind, int]]:
    """``companyRetention``: company id -> {kind: days}, as JSON (empty: none)."""
    example = '{"42": {"voice": 1825, "transcript": 730}}'
    text = raw.strip()
    if not text:
        return {}
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise StackConfigError(f"{name}.{exc} is given twice") from None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise StackConfigError(
            f"{name} must be an object of company id -> {{kind: days}}, e.g. {example} "
            f"(`pulumi config set --path '{name}[\"42\"].voice' 1825`), got {raw!r}"
        )
    found: dict[int, dict[Kind, int]] = {}
    for company_text, days in value.items():
        at = f"{name}.{company_text}"
        try:
            company = validate_company_id(company_text)
        except InvalidInputError as exc:
            raise StackConfigError(f"{at}: {exc}") from None
        if not isinstance(days, dict) or not days:
            raise StackConfigError(
                f"{at} must be an object of kind -> days with at least one of {sorted(KINDS)}, "
                f'e.g. {{"voice": 1825}}, got {json.dumps(days)}'
            )
        own: dict[Kind, int] = {}
        for kind_name, count in days.items():
            kind = next((k for k in KINDS if k == kind_name), None)
            if kind is None:
                close = difflib.get_close_matches(str(kind_name), list(KINDS), n=1, cutoff=0.5)
                hint = f": did you mean {close[0]!r}?" if close else ""
                raise StackConfigError(
                    f"{at}.{kind_name} is not a kind (one of {sorted(KINDS)}){hint}"
                )
            if isinstance(count, bool) or not isinstance(count, int | str):
                count = json.dumps(count)  # 1825.0, true, null: refused below, as given
            own[kind] = whole_days(f"{at}.{kind}", str(count))
        found[company] = own
    return found


def boolean(name: str, raw: str) -> bool:
    """``true`` or ``false`` (any case)."""
    # Only what `pulumi config set` writes for a YAML bool: "yes"/"1" are typos here.
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise StackConfigError(f"{name} must be true or false, got {raw!r}")
    return text == "true"


def _whole_match(raw: str, pattern: str, refusal: str) -> str:
    """``raw`` if ``pattern`` matches all of it; else :class:`StackConfigError` ``refusal``."""
    if not re.fullmatch(pattern, raw):
        raise StackConfigError(refusal)
    return raw


def identity_name(name: str, raw: str) -> str:
    """A MinIO user, policy or service account name."""
    # MinIO accepts these characters in user, policy and service account names.
    return _whole_match(
        raw,
        r"[A-Za-z0-9][A-Za-z0-9+=,.@_-]{2,63}",
        f"{name} must be 3 to 64 letters, digits or +=,.@_- starting with a letter or digit, "
        f"got {raw!r}",
    )


def _optional(name: str, raw: str, fits: Callable[[str], object], rule: str) -> str:
    """``raw`` stripped: empty, or a value ``fits`` accepts; else "<name> must be <rule>"."""
    text = raw.strip()
    if text and not fits(text):
        raise StackConfigError(f"{name} must be {rule}, got {raw!r}")
    return text


# The optional values' rules: what a value must be, said in the error.
_KMS_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
KMS_KEY_RULE: Final = (
    "the name of a key on the server's KMS (letters, digits, '.', '_', '-'), or empty for "
    "no server-side encryption"
)
# A MinIO access key: 3 to 128 characters; the ones a console or `mc` generates are uppercase
# letters and digits. Empty: no service account to adopt.
_ACCESS_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,127}")
ACCESS_KEY_RULE: Final = (
    "the access key of the console's service account (3 to 128 letters, digits, '.', '_' "
    "or '-'; see `mc admin user svcacct ls`), or empty"
)
CA_BUNDLE_RULE: Final = (
    "the absolute path of a PEM file (e.g. /etc/ssl/netplay-ca.pem) on the machine that "
    "runs pulumi, or empty for the system's CAs"
)


def kms_key(name: str, raw: str) -> str:
    """The name of a key on the server's KMS, or empty (no server-side encryption)."""
    return _optional(name, raw, _KMS_KEY.fullmatch, KMS_KEY_RULE)


def access_key(name: str, raw: str) -> str:
    """The access key of the console's service account to adopt, or empty."""
    return _optional(name, raw, _ACCESS_KEY.fullmatch, ACCESS_KEY_RULE)


def ca_bundle(name: str, raw: str) -> str:
    """The absolute path of a PEM file of CAs, or empty (the system's CAs)."""
    return _optional(name, raw, _is_absolute_path, CA_BUNDLE_RULE)


def _is_absolute_path(text: str) -> bool:
    # Values end up in the service's dotenv block: a newline there would smuggle in a variable.
    return text.startswith("/") and not has_space_or_control(text)


def service_token(name: str, raw: str) -> str:
    """The VOICE_AI_SERVICE_TOKEN to adopt (never echoed)."""
    # Never echo the value: this message reaches CI logs. It goes into dotenv lines, hence the
    # character set (no space, quote, '#' or '$' that a dotenv parser would interpret).
    return _whole_match(
        raw,
        r"[A-Za-z0-9._~+/=-]{16,512}",
        f"{name} must be 16 to 512 letters, digits or ._~+/=- (the current "
        f"VOICE_AI_SERVICE_TOKEN; value not shown, {len(raw)} characters given)",
    )
