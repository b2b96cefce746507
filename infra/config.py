"""The stack's configuration, read in one place into one typed, validated, frozen object.

Every key lives in the ``voice-recordings`` namespace (``voice-recordings:bucket`` ...).
Validation is a pure function over a mapping of raw strings (:func:`parse_stack_config`), so the
Pulumi program (``pulumi.Config``) and the offline render (the stack file read with PyYAML) share
it. A bad value fails before any resource is made, naming the full key, the rule and the value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from voice_recordings import DEFAULT_BUCKET, DEFAULT_REGION, KINDS, TRANSCRIPT, VOICE, Kind
from voice_recordings.settings import is_bucket_name, redact_url

NAMESPACE: Final = "voice-recordings"
MAX_RETENTION_DAYS: Final = 36500  # 100 years: anything longer is a typo, not a retention period.


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
    omniplay_reader: bool = True
    public_recordings: bool = False
    acknowledge_public_recordings: bool = False
    uploader_user: str = "voice-ai-service"
    uploader_service_account: str = "voice-ai-realtime"
    uploader_policy: str = "voice-ai-policy"
    reader_user: str = "omniplay-reader"
    reader_service_account: str = "omniplay-reader-access"
    reader_policy: str = "omniplay-reader-policy"
    # Name of a KMS (MinIO KES) key: when set, the bucket encrypts every object with it (SSE-KMS).
    # Empty by default because MinIO refuses SSE-KMS without a KMS configured on the server.
    encryption_key_id: str = ""

    def __post_init__(self) -> None:
        if not self.public_url:
            scheme = "https" if self.ssl else "http"
            object.__setattr__(self, "public_url", f"{scheme}://{self.endpoint}")

    @property
    def anonymous_recordings(self) -> bool:
        """True only when the stack opted into public recordings AND acknowledged it."""
        return self.public_recordings and self.acknowledge_public_recordings

    def retention_days(self, kind: Kind) -> int:
        """Days an object of ``kind`` lives before the lifecycle expires it."""
        by_kind: dict[Kind, int] = {
            VOICE: self.recording_retention_days,
            TRANSCRIPT: self.transcript_retention_days,
        }
        return by_kind[kind]

    def to_json(self) -> dict[str, Any]:
        """The validated config as plain JSON, keyed by full key names (for the render)."""
        return {full_key(key): getattr(self, attr) for key, (attr, _) in _FIELDS.items()}


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


def _boolean(name: str, raw: str) -> bool:
    # Only what `pulumi config set` writes for a YAML bool: "yes"/"1" are typos here.
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise StackConfigError(f"{name} must be true or false, got {raw!r}")
    return text == "true"


def _bucket(name: str, raw: str) -> str:
    if not is_bucket_name(raw):
        raise StackConfigError(
            f"{name} must be an S3 bucket name (3 to 63 lowercase letters, digits, '.' or '-', "
            f"starting and ending with a letter or digit), got {raw!r}"
        )
    return raw


def _endpoint(name: str, raw: str) -> str:
    text = raw.strip()
    parts = urlsplit(f"//{text}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    bad = not text or "/" in text or "@" in text or _has_space(text)
    if bad or not parts.hostname or port == -1:
        raise StackConfigError(
            f"{name} must be host[:port] without scheme, path or credentials (e.g. "
            f"storage.netplay.net.br), got {redact_url(raw)!r}"
        )
    return text


def _region(name: str, raw: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", raw):
        raise StackConfigError(f"{name} must be a region name such as us-east-1, got {raw!r}")
    return raw


def _public_url(name: str, raw: str) -> str:
    text = raw.strip().rstrip("/")
    parts = urlsplit(text)
    if (
        _has_space(text)
        or "@" in text  # user-info, even one holding '/' that urlsplit reads as a path
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise StackConfigError(
            f"{name} must be an http(s) URL without query or credentials "
            f"(e.g. https://storage.netplay.net.br), got {redact_url(raw)!r}"
        )
    return text


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


_Rule = Callable[[str, str], Any]

# config key -> (StackConfig attribute, rule). The one list of accepted keys.
_FIELDS: Final[dict[str, tuple[str, _Rule]]] = {
    "endpoint": ("endpoint", _endpoint),
    "bucket": ("bucket", _bucket),
    "ssl": ("ssl", _boolean),
    "region": ("region", _region),
    "publicUrl": ("public_url", _public_url),
    "recordingRetentionDays": ("recording_retention_days", _whole_days),
    "transcriptRetentionDays": ("transcript_retention_days", _whole_days),
    "noncurrentVersionExpirationDays": ("noncurrent_version_expiration_days", _whole_days),
    "omniplayReader": ("omniplay_reader", _boolean),
    "publicRecordings": ("public_recordings", _boolean),
    "acknowledgePublicRecordings": ("acknowledge_public_recordings", _boolean),
    "uploaderUser": ("uploader_user", _identity),
    "uploaderServiceAccount": ("uploader_service_account", _identity),
    "uploaderPolicy": ("uploader_policy", _identity),
    "readerUser": ("reader_user", _identity),
    "readerServiceAccount": ("reader_service_account", _identity),
    "readerPolicy": ("reader_policy", _identity),
    "encryptionKeyId": ("encryption_key_id", _kms_key),
}
KNOWN_KEYS: Final = tuple(full_key(key) for key in _FIELDS)


def parse_stack_config(raw: Mapping[str, str]) -> StackConfig:
    """Validate the raw config (full key -> string) into a :class:`StackConfig`.

    Keys outside the ``voice-recordings`` namespace (``minio:...``, ``pulumi:...``) are ignored;
    unknown keys inside it are an error that suggests the closest known key.
    """
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
    config = StackConfig(**values)
    _check_consistency(config)
    return config


def _check_consistency(config: StackConfig) -> None:
    if config.public_recordings and not config.acknowledge_public_recordings:
        raise StackConfigError(
            f"{full_key('acknowledgePublicRecordings')} must be true when "
            f"{full_key('publicRecordings')} is true (anyone with a recording's URL can play it), "
            f"got false"
        )
    for first, second in (("uploaderUser", "readerUser"), ("uploaderPolicy", "readerPolicy")):
        a, b = getattr(config, _FIELDS[first][0]), getattr(config, _FIELDS[second][0])
        if config.omniplay_reader and a == b:
            raise StackConfigError(
                f"{full_key(second)} must differ from {full_key(first)}, got {b!r} for both"
            )
    missing = set(KINDS) - {VOICE, TRANSCRIPT}
    if missing:  # a new kind needs its own retention key before it can be deployed
        raise StackConfigError(f"no retention config key for kinds {sorted(missing)}")
