"""The stack's configuration, read in one place into one typed, validated, frozen object.

Every key lives in the ``voice-recordings`` namespace (``voice-recordings:bucket`` ...).
Validation is a pure function over a mapping of raw strings (:func:`parse_stack_config`), so the
Pulumi program (``pulumi.Config``) and the offline render (the stack file read with PyYAML) share
it. A bad value fails before any resource is made, naming the full key, the rule and the value.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from infra.lifecycle_rules import LifecycleRule, lifecycle_rules
from infra.provider_values import LIFECYCLE_MAX_RULES
from infra.render_format import CONFIG_NAMESPACE, SECRET_MARKER
from voice_recordings import DEFAULT_BUCKET, DEFAULT_REGION, KINDS, TRANSCRIPT, VOICE, Kind
from voice_recordings.endpoints import (
    normalize_endpoint,
    redact_url,
    validate_http_url,
    validate_public_url,
)
from voice_recordings.errors import ConfigError, InvalidInputError
from voice_recordings.keys import validate_company_id
from voice_recordings.settings import validate_bucket, validate_region

NAMESPACE: Final = CONFIG_NAMESPACE
# Config keys whose value is a secret: the stack file must hold them encrypted
# (`pulumi config set --secret`), and the render shows them as MASK.
SERVICE_TOKEN_KEY: Final = "voiceAiServiceToken"
SECRET_KEYS: Final = frozenset({SERVICE_TOKEN_KEY})
MASK: Final = SECRET_MARKER
_LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
# The config key of each kind's retention (the guardrails read the render's config by them).
RETENTION_KEYS: Final[Mapping[Kind, str]] = {
    VOICE: "recordingRetentionDays",
    TRANSCRIPT: "transcriptRetentionDays",
}
# The config keys naming the users the stack creates or imports (the reader's only when
# omniplayReader is true): no other user may appear in the stack.
USER_KEYS: Final = ("uploaderUser", "readerUser", "observerUser", "stewardUser")
MAX_RETENTION_DAYS: Final = 36500  # 100 years: anything longer is a typo, not a retention period.
# Companies whose contract sets their own retention: {"42": {"voice": 1825, "transcript": 730}}.
COMPANY_RETENTION_KEY: Final = "companyRetention"


class StackConfigError(ValueError):
    """A stack config value is missing, malformed or unknown (one line: full key, rule, value)."""


def full_key(key: str) -> str:
    """``bucket`` -> ``voice-recordings:bucket``."""
    return f"{NAMESPACE}:{key}"


@dataclass(frozen=True)
class StackConfig:
    """Everything one stack (environment) decides; defaults are the secure choice."""

    endpoint: str
    bucket: str = DEFAULT_BUCKET
    ssl: bool = True
    region: str = DEFAULT_REGION
    public_url: str = ""  # empty: derived from endpoint and ssl
    recording_retention_days: int = 365
    transcript_retention_days: int = 365
    noncurrent_version_expiration_days: int = 30
    # company id -> the days each kind lives for that company, as the config gives them (a kind
    # left out keeps the stack's retention: own_retention fills it in).
    company_retention: Mapping[int, Mapping[Kind, int]] = field(default_factory=dict)
    omniplay_reader: bool = True
    public_recordings: bool = False
    acknowledge_public_recordings: bool = False
    uploader_user: str = "voice-ai-service"
    uploader_service_account: str = "voice-ai-realtime"
    uploader_policy: str = "voice-ai-policy"
    reader_user: str = "omniplay-reader"
    reader_service_account: str = "omniplay-reader-access"
    reader_policy: str = "omniplay-reader-policy"
    # The read-only identity CI's preview and drift jobs use (policies/pulumi-observer.json).
    observer_user: str = "pulumi-observer"
    observer_service_account: str = "pulumi-observer-access"
    observer_policy: str = "pulumi-observer-policy"
    # The data-protection steward: erases and exports recordings (policies/recordings-steward.json).
    steward_user: str = "recordings-steward"
    steward_service_account: str = "recordings-steward-access"
    steward_policy: str = "recordings-steward-policy"
    # Name of a KMS (MinIO KES) key: when set, the bucket encrypts every object with it (SSE-KMS).
    # Empty by default because MinIO refuses SSE-KMS without a KMS configured on the server.
    encryption_key_id: str = ""
    # Base URL of OmniPlay's API (OMNIPLAY_API_URL), where the Voice AI posts its handoffs.
    omniplay_api_url: str = ""
    # The VOICE_AI_SERVICE_TOKEN already shared by a running integration (adoption); empty: the
    # stack generates one. A secret: kept out of repr, masked by to_json.
    service_token: str = field(default="", repr=False)
    # Take over what the specification's hand steps already made (import, never create): the
    # bucket, the uploader's user, policy and attachment; and, when given, the console's service
    # account by its access key. See docs/operating.md, "Taking over the hand-made storage".
    adopt_existing: bool = False
    adopt_service_account: str = ""
    # The bucket has object lock (`mc mb --with-lock`), accepted knowingly after the survey's
    # decision: the program then declares object_locking=True, as the server has it, so the
    # import plans no `objectLocking: true -> false` (an update the provider ignores and the
    # state would record). False: the bucket has none (a new bucket is made without).
    acknowledge_object_lock: bool = False
    # PEM file of the CA that signed the server's certificate (a private CA), on the machine that
    # runs `pulumi up`: the provider adds it to the system roots. Empty: the system roots only.
    ca_bundle: str = ""

    def __post_init__(self) -> None:
        if not self.public_url:
            scheme = "https" if self.ssl else "http"
            object.__setattr__(self, "public_url", f"{scheme}://{self.endpoint}")

    @property
    def anonymous_recordings(self) -> bool:
        """True only when the stack opted into public recordings AND acknowledged it."""
        return self.public_recordings and self.acknowledge_public_recordings

    @property
    def url_mode(self) -> str:
        """The ``MINIO_URL_MODE`` every ``.env`` block of the runtime carries: public URLs play
        only where the bucket allows anonymous reads of recordings."""
        return "public" if self.anonymous_recordings else "presigned"

    def retention_days(self, kind: Kind) -> int:
        """Days an object of ``kind`` lives before the lifecycle expires it."""
        by_kind: dict[Kind, int] = {
            VOICE: self.recording_retention_days,
            TRANSCRIPT: self.transcript_retention_days,
        }
        return by_kind[kind]

    def own_retention(self) -> dict[int, dict[Kind, int]]:
        """Every company with its own retention -> the days of every kind (the stack's retention
        for a kind its entry leaves out)."""
        return {
            company: {kind: days.get(kind, self.retention_days(kind)) for kind in KINDS}
            for company, days in self.company_retention.items()
        }

    def lifecycle_rules(self) -> list[LifecycleRule]:
        """The bucket's lifecycle rules for this config (infra/lifecycle_rules.py)."""
        return lifecycle_rules(
            {kind: self.retention_days(kind) for kind in KINDS},
            self.own_retention(),
            self.noncurrent_version_expiration_days,
        )

    def to_json(self) -> dict[str, Any]:
        """The validated config as plain JSON, keyed by full key names (for the render)."""
        values = {full_key(key): getattr(self, attr) for key, (attr, _) in _FIELDS.items()}
        values[full_key(COMPANY_RETENTION_KEY)] = {
            str(company): dict(sorted(days.items()))
            for company, days in sorted(self.own_retention().items())
        }
        for key in SECRET_KEYS:
            # Present (masked) only when set: the render shows that a value is adopted, not it.
            if values[full_key(key)]:
                values[full_key(key)] = MASK
            else:
                del values[full_key(key)]
        return values


# --- rules: each takes the full key name and the raw string, returns the typed value ----------


def _has_space(text: str) -> bool:
    # Values end up in the service's dotenv block: a newline there would smuggle in a variable.
    return any(c.isspace() or not c.isprintable() for c in text)


def _whole_days(name: str, raw: str) -> int:
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


def _company_retention(name: str, raw: str) -> dict[int, dict[Kind, int]]:
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
            own[kind] = _whole_days(f"{at}.{kind}", str(count))
        found[company] = own
    return found


def _boolean(name: str, raw: str) -> bool:
    # Only what `pulumi config set` writes for a YAML bool: "yes"/"1" are typos here.
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise StackConfigError(f"{name} must be true or false, got {raw!r}")
    return text == "true"


_T = TypeVar("_T")


def _runtime(rule: Callable[[], _T]) -> _T:
    """A value the stack hands to the Voice AI, checked by the runtime's own validator (one
    definition: the stack never accepts what the service would refuse at start-up)."""
    try:
        return rule()
    except ConfigError as exc:
        raise StackConfigError(str(exc)) from None


def _bucket(name: str, raw: str) -> str:
    return _runtime(lambda: validate_bucket(name, raw))


def _endpoint(name: str, raw: str) -> str:
    host, scheme_ssl = _runtime(lambda: normalize_endpoint(raw, None, name))
    if scheme_ssl is not None:
        raise StackConfigError(
            f"{name} must be host[:port] without a scheme (set {full_key('ssl')} instead), "
            f"got {redact_url(raw.strip())!r}"
        )
    return host


def _region(name: str, raw: str) -> str:
    return _runtime(lambda: validate_region(name, raw))


def _public_url(name: str, raw: str) -> str:
    # The path rule depends on the URL mode (public recordings or not): checked with the
    # runtime's validate_public_url once the whole config is read (_check_consistency).
    return _runtime(lambda: validate_http_url(name, raw))


def _identity(name: str, raw: str) -> str:
    # MinIO accepts these characters in user, policy and service account names.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9+=,.@_-]{2,63}", raw):
        raise StackConfigError(
            f"{name} must be 3 to 64 letters, digits or +=,.@_- starting with a letter or digit, "
            f"got {raw!r}"
        )
    return raw


def _kms_key(name: str, raw: str) -> str:
    text = raw.strip()
    if text and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", text):
        raise StackConfigError(
            f"{name} must be the name of a key on the server's KMS (letters, digits, '.', '_', "
            f"'-'), or empty for no server-side encryption, got {raw!r}"
        )
    return text


def _service_url(name: str, raw: str) -> str:
    text = _runtime(lambda: validate_http_url(name, raw))
    host = urlsplit(text).hostname
    if not text.startswith("https://") and host not in _LOOPBACK_HOSTS:
        # The Voice AI sends VOICE_AI_SERVICE_TOKEN with every request to this URL.
        raise StackConfigError(
            f"{name} must be an https URL (the service token travels with every request; http "
            f"is accepted for localhost only), got {raw!r}"
        )
    return text


def _access_key(name: str, raw: str) -> str:
    # A MinIO access key: 3 to 128 characters; the ones a console or `mc` generates are
    # uppercase letters and digits. Empty: no service account to adopt.
    text = raw.strip()
    if text and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{2,127}", text):
        raise StackConfigError(
            f"{name} must be the access key of the console's service account (3 to 128 letters, "
            f"digits, '.', '_' or '-'; see `mc admin user svcacct ls`), or empty, got {raw!r}"
        )
    return text


def _ca_bundle(name: str, raw: str) -> str:
    text = raw.strip()
    if text and (not text.startswith("/") or _has_space(text)):
        raise StackConfigError(
            f"{name} must be the absolute path of a PEM file (e.g. /etc/ssl/netplay-ca.pem) on "
            f"the machine that runs pulumi, or empty for the system's CAs, got {raw!r}"
        )
    return text


def _service_token(name: str, raw: str) -> str:
    # Never echo the value: this message reaches CI logs. It goes into dotenv lines, hence the
    # character set (no space, quote, '#' or '$' that a dotenv parser would interpret).
    if not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,512}", raw):
        raise StackConfigError(
            f"{name} must be 16 to 512 letters, digits or ._~+/=- (the current "
            f"VOICE_AI_SERVICE_TOKEN; value not shown, {len(raw)} characters given)"
        )
    return raw


_Rule = Callable[[str, str], Any]

# config key -> (StackConfig attribute, rule). The one list of accepted keys.
_FIELDS: Final[dict[str, tuple[str, _Rule]]] = {
    "endpoint": ("endpoint", _endpoint),
    "bucket": ("bucket", _bucket),
    "ssl": ("ssl", _boolean),
    "region": ("region", _region),
    "publicUrl": ("public_url", _public_url),
    RETENTION_KEYS[VOICE]: ("recording_retention_days", _whole_days),
    RETENTION_KEYS[TRANSCRIPT]: ("transcript_retention_days", _whole_days),
    "noncurrentVersionExpirationDays": ("noncurrent_version_expiration_days", _whole_days),
    COMPANY_RETENTION_KEY: ("company_retention", _company_retention),
    "omniplayReader": ("omniplay_reader", _boolean),
    "publicRecordings": ("public_recordings", _boolean),
    "acknowledgePublicRecordings": ("acknowledge_public_recordings", _boolean),
    "uploaderUser": ("uploader_user", _identity),
    "uploaderServiceAccount": ("uploader_service_account", _identity),
    "uploaderPolicy": ("uploader_policy", _identity),
    "readerUser": ("reader_user", _identity),
    "readerServiceAccount": ("reader_service_account", _identity),
    "readerPolicy": ("reader_policy", _identity),
    "observerUser": ("observer_user", _identity),
    "observerServiceAccount": ("observer_service_account", _identity),
    "observerPolicy": ("observer_policy", _identity),
    "stewardUser": ("steward_user", _identity),
    "stewardServiceAccount": ("steward_service_account", _identity),
    "stewardPolicy": ("steward_policy", _identity),
    "encryptionKeyId": ("encryption_key_id", _kms_key),
    "omniplayApiUrl": ("omniplay_api_url", _service_url),
    SERVICE_TOKEN_KEY: ("service_token", _service_token),
    "adoptExisting": ("adopt_existing", _boolean),
    "adoptServiceAccount": ("adopt_service_account", _access_key),
    "acknowledgeObjectLock": ("acknowledge_object_lock", _boolean),
    "caBundle": ("ca_bundle", _ca_bundle),
}
KNOWN_KEYS: Final = tuple(full_key(key) for key in _FIELDS)


def parse_stack_config(
    raw: Mapping[str, str], secret_keys: Collection[str] | None = None
) -> StackConfig:
    """Validate the raw config (full key -> string) into a :class:`StackConfig`.

    Keys outside the ``voice-recordings`` namespace (``minio:...``, ``pulumi:...``) are ignored;
    unknown keys inside it are an error that suggests the closest known key. ``secret_keys``,
    when the caller knows them, are the keys stored encrypted: a :data:`SECRET_KEYS` value
    outside them sits in the stack file in plaintext and is refused.
    """
    for short in sorted(SECRET_KEYS):
        key = full_key(short)
        if secret_keys is not None and key in raw and key not in secret_keys:
            raise StackConfigError(
                f"{key} is stored in plaintext in the stack file; remove it and store it "
                f"encrypted: `pulumi config rm {key}` then `pulumi config set --secret {key}` "
                f"(prompts for the value)"
            )
    values: dict[str, Any] = {}
    for key in sorted(raw):
        namespace, _, short = key.partition(":")
        if namespace != NAMESPACE:
            continue
        if short not in _FIELDS:
            # Compare the short names: the shared namespace would make every key look close.
            close = difflib.get_close_matches(short, list(_FIELDS), n=1, cutoff=0.6)
            known = ", ".join(KNOWN_KEYS)
            hint = f": did you mean {full_key(close[0])}?" if close else f"; known keys: {known}"
            raise StackConfigError(f"{key} is not a known config key{hint}")
        attr, rule = _FIELDS[short]
        values[attr] = rule(key, raw[key])
    if "endpoint" not in values:
        raise StackConfigError(
            f"{full_key('endpoint')} is required: host[:port] of the MinIO server, got nothing"
        )
    if "omniplay_api_url" not in values:
        raise StackConfigError(
            f"{full_key('omniplayApiUrl')} is required: OmniPlay's API base URL "
            f"(OMNIPLAY_API_URL, e.g. https://omniplay.netplay.net.br), got nothing"
        )
    config = StackConfig(**values)
    _check_consistency(config)
    return config


def config_default(key: str) -> Any:
    """The default of config key ``key`` (``uploaderUser`` -> ``voice-ai-service``)."""
    return StackConfig.__dataclass_fields__[_FIELDS[key][0]].default


def _check_consistency(config: StackConfig) -> None:
    if config.public_recordings and not config.acknowledge_public_recordings:
        raise StackConfigError(
            f"{full_key('acknowledgePublicRecordings')} must be true when "
            f"{full_key('publicRecordings')} is true (anyone with a recording's URL can play it), "
            f"got false"
        )
    # Each identity has a user and a policy of its own: a shared name would merge two identities.
    roles = ["uploader", "observer", "steward"] + (["reader"] if config.omniplay_reader else [])
    for kind in ("User", "Policy", "ServiceAccount"):
        keys = [f"{role}{kind}" for role in roles]
        for index, second in enumerate(keys):
            for first in keys[:index]:
                a, b = getattr(config, _FIELDS[first][0]), getattr(config, _FIELDS[second][0])
                if a == b:
                    raise StackConfigError(
                        f"{full_key(second)} must differ from {full_key(first)}, got {b!r} for both"
                    )
    if config.adopt_service_account and not config.adopt_existing:
        raise StackConfigError(
            f"{full_key('adoptServiceAccount')} needs {full_key('adoptExisting')}=true (a service "
            f"account is adopted together with its user), got adoptExisting=false"
        )
    url_mode = config.url_mode
    if config.public_url != f"{'https' if config.ssl else 'http'}://{config.endpoint}":
        # The mode every runtime block carries (MINIO_URL_MODE) decides whether a path
        # is allowed: checked by the service's own rule.
        _runtime(lambda: validate_public_url(config.public_url, url_mode, full_key("publicUrl")))
    if config.ca_bundle and not config.ssl:
        raise StackConfigError(
            f"{full_key('caBundle')} needs {full_key('ssl')} true (a CA only matters for TLS), "
            f"got ssl false"
        )
    rules = config.lifecycle_rules()
    if len(rules) > LIFECYCLE_MAX_RULES:
        raise StackConfigError(
            f"{full_key(COMPANY_RETENTION_KEY)} needs {len(rules)} lifecycle rules for its "
            f"{len(config.company_retention)} companies, more than the {LIFECYCLE_MAX_RULES} MinIO "
            f"allows (about 9 per digit of each id, per kind); give fewer companies their own "
            f"retention"
        )
    missing = set(KINDS) - {VOICE, TRANSCRIPT}
    if missing:  # a new kind needs its own retention key before it can be deployed
        raise StackConfigError(f"no retention config key for kinds {sorted(missing)}")
