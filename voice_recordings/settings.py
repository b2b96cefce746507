"""Storage settings, read once from the environment into one typed, validated object.

Names follow the specification (``MINIO_ENDPOINT`` ... ``MINIO_PUBLIC_URL``); the rest are ours
and all have defaults. Each variable is declared once, in :data:`SETTINGS` (its name, the field it
sets, how it is read, what it means), and only the dataclass holds defaults. A malformed value
raises :class:`ConfigError` naming the variable and rule (the endpoint and URL rules:
:mod:`voice_recordings.endpoints`).
"""

from __future__ import annotations

import functools
import os
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from voice_recordings.bucket_names import RULE as BUCKET_RULE
from voice_recordings.bucket_names import bucket_name_problem
from voice_recordings.endpoints import normalize_endpoint, parse_host_port, validate_public_url
from voice_recordings.errors import ConfigError
from voice_recordings.misspellings import meant_name
from voice_recordings.setting_names import Env as Env

DEFAULT_BUCKET: Final = "voice-recordings"
DEFAULT_REGION: Final = "us-east-1"
# S3 signatures (SigV4) are valid for at most 7 days.
MAX_PRESIGN_SECONDS: Final = 7 * 24 * 3600
MISSING_KEYS_MESSAGE: Final = "MINIO_ACCESS_KEY or MINIO_SECRET_KEY not configured"

# The end of a call waits for the upload (the ticket handoff carries its URL), so an unreachable
# server must cost seconds, not minutes. 20 s lets a long call's MP3 (60 MB at 3 MB/s) through;
# anything slower is spooled, not lost, under the same URL, and replayed later.
DEFAULT_UPLOAD_DEADLINE: Final = 20.0
MAX_UPLOAD_DEADLINE: Final = 3600.0

UrlMode = Literal["presigned", "public"]


def refuse_misspelt_settings(env: Mapping[str, str]) -> None:
    """ConfigError for a variable that is no setting but misspells one that is not set
    (``MINIO_SECERT_KEY``, ``minio_bucket``, ``MINIOENDPOINT``:
    :func:`~voice_recordings.misspellings.meant_name`)."""
    for name in sorted(env):
        meant = meant_name(name, SETTING_NAMES, "MINIO_")
        if meant is not None and meant not in env:
            case = " (names are case-sensitive)" if name.upper() == meant else ""
            raise ConfigError(
                f"{name} is not a setting: did you mean {meant}?{case} Rename it in the "
                f"service's environment (.env or docker-compose)"
            )


_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


def parse_bool(name: str, raw: str) -> bool:
    """``true/false/1/0/yes/no`` (any case) to a bool; anything else is a ConfigError."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true/false/1/0/yes/no, got {raw!r}")


# Numbers as a person writes them, in ASCII digits only: Python's int() and float() also take
# any Unicode digit ("٣" is 3), "1_000", "inf", "nan" and exponents.
_WHOLE: Final = re.compile(r"[0-9]+")
_DECIMAL: Final = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def parse_number(name: str, raw: str, *, low: float, high: float, integer: bool) -> float:
    """``raw`` as a number from ``low`` to ``high`` (whole when ``integer``), written in ASCII
    digits with at most one '.'; anything else is a ConfigError naming ``name``."""
    kind = "a whole number" if integer else "a number"
    if not (_WHOLE if integer else _DECIMAL).fullmatch(raw):
        raise ConfigError(
            f"{name} must be {kind} from {low:g} to {high:g} in the digits 0-9"
            f"{'' if integer else ' (and one .)'}, got {raw!r}"
        )
    value = int(raw) if integer else float(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be from {low:g} to {high:g}, got {raw!r}")
    return value


def validate_region(name: str, raw: str) -> str:
    """A signing region botocore accepts (``botocore.utils.validate_region_name``, the rule the
    client applies when it is built: a host label of letters, digits and '-'); else a
    ConfigError naming ``name``. botocore's pattern ends in ``$``, which lets a trailing newline
    through, and accepts the empty string: both refused here."""
    # Imported here: botocore.utils costs 50 ms to import, and what reads only the settings
    # (the Pulumi program on every pulumi run, the guardrails) never builds a client.
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import validate_region_name

    try:
        validate_region_name(raw)
        valid = bool(raw) and "\n" not in raw
    except InvalidRegionError:
        valid = False
    if not valid:
        raise ConfigError(
            f"{name} must be a region name such as us-east-1 (at most 63 ASCII letters, digits "
            f"or '-', not starting or ending with '-'), got {raw!r}"
        )
    return raw


def validate_bucket(name: str, raw: str) -> str:
    """An S3 bucket name (:mod:`voice_recordings.bucket_names`); else a ConfigError."""
    problem = bucket_name_problem(raw)
    if problem is not None:
        raise ConfigError(f"{name} {problem} (an S3 bucket name is {BUCKET_RULE}), got {raw!r}")
    return raw


def _is_key_text(raw: str) -> bool:
    # What the signer can carry: the access key goes into a header, both feed the HMAC.
    return raw.isascii() and raw.isprintable() and not any(c.isspace() for c in raw)


def validate_access_key(name: str, raw: str) -> str:
    """An access key as the signer sends it in a header: printable ASCII, no spaces."""
    if not _is_key_text(raw):
        raise ConfigError(f"{name} must be printable ASCII without spaces, got {raw!r}")
    return raw


def validate_secret_key(name: str, raw: str) -> str:
    """A secret key: printable ASCII without spaces. The message never shows the value."""
    if not _is_key_text(raw):
        raise ConfigError(
            f"{name} must be printable ASCII without spaces (value not shown, {len(raw)} "
            f"characters given): copy it again from `pulumi stack output voice_ai_env "
            f"--show-secrets`"
        )
    return raw


def validate_ca_bundle(name: str, raw: str) -> str:
    """A PEM file of CA certificates that Python's ssl module (what urllib3 uses) loads."""
    try:
        ssl.create_default_context(cafile=raw)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            f"{name} must name a readable PEM file of CA certificates, got {raw!r} ({reason})"
        ) from None
    return raw


SPOOL_OFF: Final = frozenset({"off", "none", "disabled", "false"})


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME", "")
    if os.path.isabs(home):
        return Path(home)
    try:
        return Path.home()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        raise ConfigError(
            f"{Env.SPOOL_DIR} is not set and this user has no home directory for the default "
            f"spool: set {Env.SPOOL_DIR} to an absolute path (or XDG_STATE_HOME)"
        ) from None


def default_spool_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_STATE_HOME/voice-recordings/spool``, or ``~/.local/state/...`` when it is unset or
    relative: the XDG Base Directory rule is that a relative path there is invalid and ignored
    (else the service and a cron ``replay`` in another working directory use two spools)."""
    state = env.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else _home(env) / ".local" / "state"
    return base / "voice-recordings" / "spool"


def parse_spool_dir(raw: str | None, env: Mapping[str, str]) -> Path | None:
    """MINIO_SPOOL_DIR: unset means the per-user default (never lose a recording unless told);
    ``off`` disables the spool; anything else must be an absolute path once ``~`` is expanded,
    so the service and a ``voice-recordings replay`` cron job agree on it whatever their cwd."""
    if raw is None:
        return default_spool_dir(env)
    if raw.lower() in SPOOL_OFF:
        return None
    if "\0" in raw or not raw.isprintable():
        raise ConfigError(f"{Env.SPOOL_DIR} must be a printable path, got {raw!r}")
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # ~user of a user that does not exist, or no home to expand ~ to
        raise ConfigError(
            f"{Env.SPOOL_DIR} starts with a ~ that cannot be expanded (no such user or home), "
            f"got {raw!r}: write the absolute path"
        ) from None
    if not path.is_absolute():
        raise ConfigError(
            f"{Env.SPOOL_DIR} must be an absolute path (after ~ is expanded) or 'off', got {raw!r}"
        )
    return path


def parse_url_mode(name: str, raw: str) -> UrlMode:
    """``presigned`` or ``public``, in any case; else a ConfigError (showing the value lowered)."""
    mode = raw.lower()
    if mode not in ("presigned", "public"):
        raise ConfigError(f"{name} must be presigned or public, got {mode!r}")
    return "public" if mode == "public" else "presigned"


class _Reading:
    """One :meth:`StorageSettings.from_env`: the variables given (stripped; empty is unset) and
    the fields read so far, for the settings read together with an earlier one."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.given = {s.name: v.strip() for s in SETTINGS if (v := env.get(s.name, "")).strip()}
        self.fields: dict[str, Any] = {}


# How a setting is read: (its name, its text or None when unset, the reading) -> the field's
# value, or _UNSET to leave the dataclass's default; a ConfigError naming the setting if wrong.
_Parse = Callable[[str, "str | None", _Reading], Any]
_UNSET: Final = object()


def _text(rule: Callable[[str, str], Any]) -> _Parse:
    """The parser of a setting whose text alone decides its value (``rule(name, text)``)."""
    return lambda name, raw, _: _UNSET if raw is None else rule(name, raw)


@dataclass(frozen=True)
class Range:
    """A number setting's parser: ASCII digits (:func:`parse_number`) from ``low`` to ``high``,
    a whole number when ``whole``."""

    low: float
    high: float
    whole: bool = False

    def __call__(self, name: str, raw: str | None, _: _Reading) -> float | object:
        """The number, or _UNSET."""
        if raw is None:
            return _UNSET
        value = parse_number(name, raw, low=self.low, high=self.high, integer=self.whole)
        return int(value) if self.whole else value


def _endpoint(name: str, raw: str | None, reading: _Reading) -> str:
    # Required (unset: "not configured"); a scheme given here decides MINIO_USE_SSL left unset.
    host, scheme_ssl = normalize_endpoint(raw or "", reading.fields.get("use_ssl"), name)
    if scheme_ssl is not None:
        reading.fields.setdefault("use_ssl", scheme_ssl)
    return host


def _public_url(name: str, raw: str | None, reading: _Reading) -> str | object:
    # A path only with MINIO_URL_MODE=public, read before it.
    mode = reading.fields.get("url_mode", StorageSettings.url_mode)
    return _UNSET if raw is None else validate_public_url(raw, mode, name)


def _spool_dir(name: str, raw: str | None, reading: _Reading) -> Path | None:
    # Unset: the per-user default, which depends on the environment (HOME, XDG_STATE_HOME).
    return parse_spool_dir(raw, reading.env)


@dataclass(frozen=True)
class Setting:
    """One ``MINIO_*`` variable: the :class:`StorageSettings` field it sets, its parser (for a
    number, the :class:`Range` it must be in) and, in one line, what it means."""

    name: str
    field: str
    parse: _Parse
    description: str


# Every variable the runtime reads, in the order they are read: a setting read together with
# another comes after it (MINIO_ENDPOINT after MINIO_USE_SSL, MINIO_PUBLIC_URL after
# MINIO_URL_MODE), and the first wrong one is the one reported.
SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(Env.ACCESS_KEY, "access_key", _text(validate_access_key),
            "the Voice AI service account's access key (required)"),
    Setting(Env.SECRET_KEY, "secret_key", _text(validate_secret_key),
            "the service account's secret key (required; never shown)"),
    Setting(Env.USE_SSL, "use_ssl", _text(parse_bool),
            "https (true) or http (false): true/false/1/0/yes/no, any case"),
    Setting(Env.ENDPOINT, "endpoint", _endpoint,
            "host[:port] of the S3 API (required); a scheme is folded into MINIO_USE_SSL"),
    Setting(Env.URL_MODE, "url_mode", _text(parse_url_mode),
            "the URLs handed out: presigned (the bucket is private) or public"),
    Setting(Env.CA_BUNDLE, "ca_bundle", _text(validate_ca_bundle),
            "PEM file of the CA that signed the server's certificate (unset: the system's)"),
    Setting(Env.SPOOL_DIR, "spool_dir", _spool_dir,
            "where recordings wait while the server is unavailable (an absolute path, or off)"),
    Setting(Env.BUCKET, "bucket", _text(validate_bucket),
            "the bucket, an S3 bucket name"),
    Setting(Env.REGION, "region", _text(validate_region),
            "the signing region, by botocore's rule"),
    Setting(Env.PUBLIC_URL, "public_url", _public_url,
            "base of the URLs handed out (unset: the endpoint's; a path only when public)"),
    Setting(Env.PRESIGN_EXPIRES, "presign_expires", Range(1, MAX_PRESIGN_SECONDS, whole=True),
            "presigned URL lifetime in seconds (7 days at most, the S3 limit)"),
    Setting(Env.CONNECT_TIMEOUT, "connect_timeout", Range(0.1, 300),
            "seconds a connection may take"),
    Setting(Env.READ_TIMEOUT, "read_timeout", Range(0.1, 3600),
            "seconds an answer may take"),
    Setting(Env.MAX_ATTEMPTS, "max_attempts", Range(1, 20, whole=True),
            "requests per operation, the first included"),
    Setting(Env.UPLOAD_DEADLINE, "upload_deadline", Range(1, MAX_UPLOAD_DEADLINE),
            "seconds an upload may take, all attempts included, before it is spooled"),
)  # fmt: skip
# Every MINIO_* name the runtime reads.
SETTING_NAMES: Final[frozenset[str]] = frozenset(setting.name for setting in SETTINGS)


def _as_config_error(name: str, parse: Callable[[], Any]) -> Any:
    """``parse()``, any failure but a ConfigError turned into one naming ``name`` (whatever a
    library raises on a strange value, the service must hear which setting is wrong)."""
    try:
        return parse()
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{name} could not be read ({type(exc).__name__})") from None


@dataclass(frozen=True)
class StorageSettings:
    """Where and how to store recordings. Build it with :meth:`from_env` or directly."""

    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    bucket: str = DEFAULT_BUCKET
    use_ssl: bool = True
    region: str = DEFAULT_REGION
    public_url: str = ""
    url_mode: UrlMode = "presigned"
    presign_expires: int = MAX_PRESIGN_SECONDS
    ca_bundle: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 3
    # Seconds an upload may take, all attempts included, before the recording is spooled
    # instead (see DEFAULT_UPLOAD_DEADLINE); replay is not bound by it.
    upload_deadline: float = DEFAULT_UPLOAD_DEADLINE
    # Where recordings wait when the server is down; None disables the spool (from_env defaults
    # to a per-user state directory, see parse_spool_dir).
    spool_dir: Path | None = None

    def __post_init__(self) -> None:
        # Built directly or from the environment, a settings object is valid at start-up (not
        # when the first recording's URL is made).
        parse_host_port("endpoint", self.endpoint, self.endpoint)
        validate_region("region", self.region)
        validate_bucket("bucket", self.bucket)
        if not 0 < self.upload_deadline <= MAX_UPLOAD_DEADLINE:
            raise ConfigError(
                f"upload_deadline must be more than 0 and at most {MAX_UPLOAD_DEADLINE:g} "
                f"seconds, got {self.upload_deadline!r}"
            )
        if not self.public_url:
            object.__setattr__(self, "public_url", self.endpoint_url)
        else:
            object.__setattr__(
                self, "public_url", validate_public_url(self.public_url, self.url_mode)
            )

    @property
    def endpoint_url(self) -> str:
        """``https://host[:port]`` (or ``http://`` when SSL is off)."""
        return f"{'https' if self.use_ssl else 'http'}://{self.endpoint}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StorageSettings:
        """Read the MINIO_* variables (``os.environ`` by default) as :data:`SETTINGS` declares
        them; raise ConfigError if one is invalid."""
        source = os.environ if env is None else env
        refuse_misspelt_settings(source)
        reading = _Reading(source)
        if Env.ACCESS_KEY not in reading.given or Env.SECRET_KEY not in reading.given:
            raise ConfigError(
                f"{MISSING_KEYS_MESSAGE}: set both in the service's environment (.env or "
                f"docker-compose), then restart it"
            )
        for setting in SETTINGS:
            raw = reading.given.get(setting.name)
            value = _as_config_error(
                setting.name, functools.partial(setting.parse, setting.name, raw, reading)
            )
            if value is not _UNSET:
                reading.fields[setting.field] = value
        return cls(**reading.fields)
