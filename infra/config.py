"""The stack's configuration, read in one place into one typed, validated, frozen object.

Every key lives in the ``voice-recordings`` namespace (``voice-recordings:bucket`` ...).
Validation is a pure function over a mapping of raw strings (:func:`parse_stack_config`), so the
Pulumi program (``pulumi.Config``) and the offline render (the stack file read with PyYAML) share
it. A bad value fails before any resource is made, naming the full key, the rule and the value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from infra import config_values
from infra.config_values import ConfigKey
from infra.config_values import StackConfigError as StackConfigError
from infra.identities import NAME_PARTS, ROLE_BY_NAME, ROLES, IdentityNames, Role, always_first
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
from voice_recordings.errors import ConfigError
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
# The config keys of the identities' names (infra/identities.py): key -> (role, name part).
IDENTITY_KEYS: Final[Mapping[str, tuple[str, str]]] = {
    role.key(suffix): (role.name, part) for role in ROLES for part, suffix in NAME_PARTS
}
# The config keys naming the users the stack creates or imports (an optional role's only when
# its flag is true): no other user may appear in the stack.
USER_KEYS: Final = tuple(role.key("User") for role in ROLES)
# Companies whose contract sets their own retention: {"42": {"voice": 1825, "transcript": 730}}.
COMPANY_RETENTION_KEY: Final = "companyRetention"


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
    # Each role's user, service account and policy names, by role (infra/identities.py).
    identities: Mapping[str, IdentityNames] = field(
        default_factory=lambda: {role.name: role.defaults for role in ROLES}
    )
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

    def identity(self, role: Role) -> IdentityNames:
        """The names ``role`` has on the server."""
        return self.identities[role.name]

    def roles(self) -> list[Role]:
        """The roles this stack makes (an optional one only when its flag is true)."""
        return [role for role in ROLES if not role.enabled_by or self.value(role.enabled_by)]

    def value(self, key: str) -> Any:
        """The value of config key ``key`` (short name: ``uploaderUser``)."""
        if key in IDENTITY_KEYS:
            role, part = IDENTITY_KEYS[key]
            return getattr(self.identities[role], part)
        return getattr(self, CONFIG_KEYS[key].attr)

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
        values = {full_key(key): self.value(key) for key in CONFIG_KEYS}
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


# --- the rules of what the stack hands the Voice AI, checked by the runtime's validators -----
# (each takes the full key name and the raw string; the other rules: infra/config_values.py)


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


# The attribute of every identity name key: StackConfig.identities, by role (IDENTITY_KEYS).
_IDENTITIES: Final = "identities"


# Every config key, the one list of accepted keys, in the order the docs' table lists them.
CONFIG_KEYS: Final[dict[str, ConfigKey]] = {
    "endpoint": ConfigKey("endpoint", _endpoint,
        "MinIO `host[:port]`, no scheme (`storage.netplay.net.br`, `localhost:9000`)"),
    "bucket": ConfigKey("bucket", _bucket, "the bucket"),
    "ssl": ConfigKey("ssl", config_values.boolean, "TLS to the endpoint"),
    "region": ConfigKey("region", _region, "S3 region"),
    "publicUrl": ConfigKey("public_url", _public_url,
        "base of recording URLs (`MINIO_PUBLIC_URL`); `http://<endpoint>` without TLS"),
    RETENTION_KEYS[VOICE]: ConfigKey("recording_retention_days", config_values.whole_days,
        "recordings (tag `kind=voice`) expire after this many days"),
    RETENTION_KEYS[TRANSCRIPT]: ConfigKey("transcript_retention_days", config_values.whole_days,
        "transcripts (tag `kind=transcript`) expire after this many days"),
    "noncurrentVersionExpirationDays": ConfigKey("noncurrent_version_expiration_days",
        config_values.whole_days, "overwritten or deleted versions are kept this long"),
    COMPANY_RETENTION_KEY: ConfigKey("company_retention", config_values.company_retention,
        "company id -> kind -> days, for companies whose contract sets their own retention"),
    "omniplayReader": ConfigKey("omniplay_reader", config_values.boolean,
        "create OmniPlay's read-only identity (`s3:GetObject` only)"),
    "publicRecordings": ConfigKey("public_recordings", config_values.boolean,
        "anonymous `s3:GetObject` on `company_*/voice/*` (never transcripts, never listing)"),
    "acknowledgePublicRecordings": ConfigKey("acknowledge_public_recordings",
        config_values.boolean, "`true` when `publicRecordings` is: anyone with a URL plays it"),
    **{role.key(suffix): ConfigKey(_IDENTITIES, config_values.identity_name, role.describe(part))
       for role in ROLES for part, suffix in NAME_PARTS},
    "encryptionKeyId": ConfigKey("encryption_key_id", config_values.kms_key,
        "a key on the server's KMS (MinIO KES): the bucket encrypts with it (empty: no SSE)"),
    "omniplayApiUrl": ConfigKey("omniplay_api_url", _service_url,
        "OmniPlay's API base URL (`OMNIPLAY_API_URL`): https, or http to localhost only"),
    SERVICE_TOKEN_KEY: ConfigKey("service_token", config_values.service_token,
        "secret: the running integration's `VOICE_AI_SERVICE_TOKEN` (empty: generated)"),
    "adoptExisting": ConfigKey("adopt_existing", config_values.boolean,
        "import the hand-made bucket, uploader user, policy and attachment, not create them"),
    "adoptServiceAccount": ConfigKey("adopt_service_account", config_values.access_key,
        "access key of the console's service account to import too (needs `adoptExisting`)"),
    "acknowledgeObjectLock": ConfigKey("acknowledge_object_lock", config_values.boolean,
        "`true` only when the bucket has object lock and adopting it was decided"),
    "caBundle": ConfigKey("ca_bundle", config_values.ca_bundle,
        "PEM file of the server's CA, beside the system's CAs (empty: the system's only)"),
}  # fmt: skip
# The keys without a default: what the error calls each when it is missing.
_OMNIPLAY_API: Final = (
    "OmniPlay's API base URL (OMNIPLAY_API_URL, e.g. https://omniplay.netplay.net.br)"
)
REQUIRED_KEYS: Final = {
    "endpoint": "host[:port] of the MinIO server",
    "omniplayApiUrl": _OMNIPLAY_API,
}
KNOWN_KEYS: Final = tuple(full_key(key) for key in CONFIG_KEYS)


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
    config = _typed_config(raw)
    _check_consistency(config)
    return config


def _typed_config(raw: Mapping[str, str]) -> StackConfig:
    """Each key's value by its rule, the required keys present, defaults for the others."""
    values: dict[str, Any] = {}
    names: dict[str, dict[str, str]] = {role.name: {} for role in ROLES}
    for key in sorted(raw):
        namespace, _, short = key.partition(":")
        if namespace != NAMESPACE:
            continue
        if short not in CONFIG_KEYS:
            # Compare the short names: the shared namespace would make every key look close.
            close = difflib.get_close_matches(short, list(CONFIG_KEYS), n=1, cutoff=0.6)
            known = ", ".join(KNOWN_KEYS)
            hint = f": did you mean {full_key(close[0])}?" if close else f"; known keys: {known}"
            raise StackConfigError(f"{key} is not a known config key{hint}")
        attr, rule, _ = CONFIG_KEYS[short]
        if attr == _IDENTITIES:
            role, part = IDENTITY_KEYS[short]
            names[role][part] = rule(key, raw[key])
        else:
            values[attr] = rule(key, raw[key])
    for key, what in REQUIRED_KEYS.items():
        if CONFIG_KEYS[key].attr not in values:
            raise StackConfigError(f"{full_key(key)} is required: {what}, got nothing")
    values[_IDENTITIES] = {
        role: replace(ROLE_BY_NAME[role].defaults, **given) for role, given in names.items()
    }
    return StackConfig(**values)


def parse_rendered_config(rendered: Mapping[str, Any]) -> StackConfig:
    """The :class:`StackConfig` a render's ``config`` (:meth:`StackConfig.to_json`) holds: each
    value read by its key's rule, a masked secret left out (only its presence shows).

    What the keys say together is not checked: a render edited by hand (an unacknowledged public
    bucket policy, say) is judged as it is, by the guardrails that report what follows from it.
    """
    masked = {full_key(key) for key in SECRET_KEYS}
    return _typed_config(
        {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in rendered.items()
            if not (key in masked and value == MASK)
        }
    )


def _check_consistency(config: StackConfig) -> None:
    if config.public_recordings and not config.acknowledge_public_recordings:
        raise StackConfigError(
            f"{full_key('acknowledgePublicRecordings')} must be true when "
            f"{full_key('publicRecordings')} is true (anyone with a recording's URL can play it), "
            f"got false"
        )
    # Each identity has a user and a policy of its own: a shared name would merge two identities.
    roles = always_first(config.roles())
    for suffix in ("User", "Policy", "ServiceAccount"):
        keys = [role.key(suffix) for role in roles]
        for index, second in enumerate(keys):
            for first in keys[:index]:
                a, b = config.value(first), config.value(second)
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
