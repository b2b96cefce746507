"""Storage settings, read once from the environment into one typed, validated object.

Names follow the specification (``MINIO_ENDPOINT`` ... ``MINIO_PUBLIC_URL``); the rest are ours
and all have defaults. A malformed value raises :class:`ConfigError` naming the variable and rule.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, TypeVar

from voice_recordings.bucket_names import RULE as BUCKET_RULE
from voice_recordings.bucket_names import bucket_name_problem
from voice_recordings.errors import ConfigError

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


class Env:
    """The environment variable names, in one place (the infra's ``voice_ai_env`` uses them too)."""

    ENDPOINT: Final = "MINIO_ENDPOINT"
    ACCESS_KEY: Final = "MINIO_ACCESS_KEY"
    SECRET_KEY: Final = "MINIO_SECRET_KEY"
    BUCKET: Final = "MINIO_BUCKET"
    USE_SSL: Final = "MINIO_USE_SSL"
    REGION: Final = "MINIO_REGION"
    PUBLIC_URL: Final = "MINIO_PUBLIC_URL"
    URL_MODE: Final = "MINIO_URL_MODE"
    PRESIGN_EXPIRES: Final = "MINIO_PRESIGN_EXPIRES"
    CA_BUNDLE: Final = "MINIO_CA_BUNDLE"
    CONNECT_TIMEOUT: Final = "MINIO_CONNECT_TIMEOUT"
    READ_TIMEOUT: Final = "MINIO_READ_TIMEOUT"
    MAX_ATTEMPTS: Final = "MINIO_MAX_ATTEMPTS"
    SPOOL_DIR: Final = "MINIO_SPOOL_DIR"
    UPLOAD_DEADLINE: Final = "MINIO_UPLOAD_DEADLINE"


# Every MINIO_* name the runtime reads.
SETTING_NAMES: Final[frozenset[str]] = frozenset(
    value for name, value in vars(Env).items() if name.isupper() and isinstance(value, str)
)
# How close a stray MINIO_* name must be to a setting to be taken for a misspelling of it
# (difflib's ratio: MINIO_SECERT_KEY to MINIO_SECRET_KEY is 0.94; the provider's own MINIO_USER
# to MINIO_USE_SSL, 0.77, is not one).
_MISSPELLING_CUTOFF: Final = 0.85
_PREFIX: Final = "MINIO_"


def one_edit_apart(a: str, b: str) -> bool:
    """Whether one edit turns ``a`` into ``b``: a character inserted, deleted or replaced, or
    two neighbours swapped (``REGOIN``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    head = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    a_tail, b_tail = a[head:], b[head:]
    if len(a) == len(b):
        swapped = len(a_tail) > 1 and a_tail[:2] == b_tail[1::-1] and a_tail[2:] == b_tail[2:]
        return swapped or a_tail[1:] == b_tail[1:]
    return a_tail[1:] == b_tail if len(a) > len(b) else a_tail == b_tail[1:]


def meant_setting(name: str) -> str | None:
    """The setting ``name`` misspells, or None: the same name in another case (``minio_bucket``),
    any name one edit from a setting (``MINIOBUCKET``, ``MINIO_BUKCET``: the prefix's typos
    too), or a ``MINIO_*`` name close to one by difflib's ratio (``MINIO_SECERT_KEYS``)."""
    if name in SETTING_NAMES:
        return None
    upper = name.upper()
    if upper in SETTING_NAMES:
        return upper
    near = [known for known in SETTING_NAMES if one_edit_apart(upper, known)]
    if near:
        return near[0]
    if upper.startswith(_PREFIX):
        close = difflib.get_close_matches(upper, SETTING_NAMES, n=1, cutoff=_MISSPELLING_CUTOFF)
        return close[0] if close else None
    return None


def refuse_misspelt_settings(env: Mapping[str, str]) -> None:
    """ConfigError for a variable that is no setting but misspells one that is not set
    (``MINIO_SECERT_KEY``, ``minio_bucket``, ``MINIOENDPOINT``: :func:`meant_setting`): a
    misspelt setting would otherwise be ignored in silence."""
    for name in sorted(env):
        meant = meant_setting(name)
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


def redact_url(text: str) -> str:
    """``text`` (a URL or ``host[:port]``) fit for an error message or a log line: user-info
    becomes ``***@``, a query or fragment ``?...``. Everything up to the last ``@`` after the
    scheme counts as user-info, so a secret holding ``/``, ``?`` or ``#`` is hidden too."""
    scheme, sep, rest = text.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        scheme, sep, rest = "", "", text
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    for mark in ("?", "#"):
        if mark in rest:
            rest = rest.split(mark, 1)[0] + "?..."
    return f"{scheme}{sep}{rest}"


# A host name as botocore's is_valid_endpoint_url takes it (the client refuses any other when it
# is built): dot-separated labels of letters, digits and '-', each at most 63 characters, no '_';
# an IPv4 address is one too.
_HOST_RE: Final = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


def parse_host_port(name: str, netloc: str, raw: str) -> str:
    """Validate ``host[:port]`` (the host a name, an IPv4 address or a bracketed IPv6 literal,
    the port 1-65535 when given); return it. ConfigError names ``name`` and what is wrong,
    showing the value only through :func:`redact_url`."""
    shown = repr(redact_url(raw.strip()))
    if "@" in netloc:
        raise ConfigError(
            f"{name} must not carry credentials (user:secret@), got {shown}: put them in "
            f"{Env.ACCESS_KEY} and {Env.SECRET_KEY}"
        )
    port_text: str | None
    if netloc.startswith("["):
        literal, bracket, after = netloc[1:].partition("]")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            bracket = ""
        if not bracket or (after and not after.startswith(":")):
            raise ConfigError(
                f"{name} has a malformed IPv6 address, got {shown}: write it as [2001:db8::1] "
                f"or [2001:db8::1]:9000"
            )
        port_text = after[1:] if after else None
    else:
        if netloc.count(":") > 1:
            raise ConfigError(
                f"{name} has an IPv6 address without brackets, got {shown}: write [{netloc}]"
            )
        host, colon, port = netloc.partition(":")
        port_text = port if colon else None
        if "_" in host:
            raise ConfigError(
                f"{name} has '_' in its host name, got {shown}: the S3 client (botocore) takes "
                f"only letters, digits, '-' and '.' there; use a name without '_' (e.g. a Docker "
                f"network alias) or the IP address"
            )
        if not _HOST_RE.fullmatch(host):
            raise ConfigError(
                f"{name} must be host[:port] with a host name or IP address, got {shown}"
            )
    if port_text is not None and not (
        port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535
    ):
        raise ConfigError(
            f"{name} has an invalid port, got {shown}: a port is 1 to 65535 (or leave out "
            f"':' for the scheme's default)"
        )
    return netloc


def _refuse_query(name: str, raw: str) -> None:
    if "?" in raw or "#" in raw:
        raise ConfigError(
            f"{name} must not have a query or fragment ('?', '#'), got {redact_url(raw)!r}"
        )


def normalize_endpoint(
    raw: str, use_ssl: bool | None, name: str = Env.ENDPOINT
) -> tuple[str, bool | None]:
    """Accept ``host[:port]`` or ``http(s)://host[:port][/]``; return the host and the scheme's SSL.

    A scheme is accepted and folded into the SSL setting (refused if it contradicts MINIO_USE_SSL);
    a path, query, fragment or credentials are refused (the bucket goes in MINIO_BUCKET), and so
    are a malformed host, IPv6 literal or port. Errors never show credentials.
    """
    text = raw.strip()
    if not text:
        raise ConfigError(
            f"{name} not configured: set it to host[:port], e.g. storage.netplay.net.br"
        )
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ConfigError(f"{name} must be host[:port] without spaces, got {redact_url(text)!r}")
    scheme_ssl: bool | None = None
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() not in ("http", "https"):
            raise ConfigError(f"{name} scheme must be http or https, got {redact_url(text)!r}")
        scheme_ssl = scheme.lower() == "https"
        text = rest
    netloc, _, path = text.partition("/")
    if "@" in text:  # user-info, whatever it holds ('/', '?', '#'): refused, never echoed
        netloc = text
    else:
        _refuse_query(name, raw.strip())
        if path:
            raise ConfigError(
                f"{name} must be host[:port] without a path, got "
                f"{redact_url(raw.strip())!r}: put the bucket in {Env.BUCKET}"
            )
    host = parse_host_port(name, netloc, raw)
    if scheme_ssl is not None and use_ssl is not None and use_ssl != scheme_ssl:
        raise ConfigError(
            f"{name} says {scheme.lower()}:// but {Env.USE_SSL} is "
            f"{str(use_ssl).lower()}: drop the scheme or make them agree"
        )
    return host, scheme_ssl


def validate_http_url(name: str, raw: str, *, allow_path: bool = True) -> str:
    """``http(s)://host[:port][/path]``: the host and port by :func:`parse_host_port`, no
    credentials, query or fragment (a path only if ``allow_path``); returned without a
    trailing ``/``. Errors name ``name`` and never show credentials."""
    text = raw.strip()
    shown = repr(redact_url(text))
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise ConfigError(
            f"{name} must be an http(s) URL such as https://storage.netplay.net.br, got {shown}"
        )
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ConfigError(f"{name} must not contain spaces, got {shown}")
    netloc, _, path = rest.partition("/")
    if "@" in rest:  # user-info, whatever it holds: refused, never echoed
        netloc = rest
    else:
        _refuse_query(name, text)
    parse_host_port(name, netloc, text)
    path = path.rstrip("/")
    if path and not allow_path:
        raise ConfigError(f"{name} must not have a path (/{path}), got {shown}")
    return f"{scheme.lower()}://{netloc}" + (f"/{path}" if path else "")


def validate_public_url(raw: str, url_mode: str = "presigned", name: str = Env.PUBLIC_URL) -> str:
    """``MINIO_PUBLIC_URL``: :func:`validate_http_url`, with a path only when ``url_mode`` is
    ``public`` (a presigned URL is signed for a host of its own)."""
    url = validate_http_url(name, raw)
    path = url.split("://", 1)[1].partition("/")[2]
    if path and url_mode != "public":
        raise ConfigError(
            f"{name} has a path (/{path}); presigned URLs need a host of their own: "
            f"drop the path or set {Env.URL_MODE}=public"
        )
    return url


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


_T = TypeVar("_T")


def _reading(name: str, parse: Callable[[], _T]) -> _T:
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
        """Read the MINIO_* variables (``os.environ`` by default); raise ConfigError if invalid."""
        source = os.environ if env is None else env
        refuse_misspelt_settings(source)

        def get(name: str) -> str | None:
            value = source.get(name)
            return None if value is None or value.strip() == "" else value.strip()

        access_key, secret_key = get(Env.ACCESS_KEY), get(Env.SECRET_KEY)
        if not access_key or not secret_key:
            raise ConfigError(
                f"{MISSING_KEYS_MESSAGE}: set both in the service's environment (.env or "
                f"docker-compose), then restart it"
            )
        validate_access_key(Env.ACCESS_KEY, access_key)
        validate_secret_key(Env.SECRET_KEY, secret_key)
        raw_ssl = get(Env.USE_SSL)
        use_ssl = parse_bool(Env.USE_SSL, raw_ssl) if raw_ssl is not None else None
        endpoint, scheme_ssl = _reading(
            Env.ENDPOINT, lambda: normalize_endpoint(get(Env.ENDPOINT) or "", use_ssl)
        )
        if use_ssl is None:
            use_ssl = True if scheme_ssl is None else scheme_ssl

        url_mode = (get(Env.URL_MODE) or "presigned").lower()
        if url_mode not in ("presigned", "public"):
            raise ConfigError(f"{Env.URL_MODE} must be presigned or public, got {url_mode!r}")

        def number(name: str, default: float, low: float, high: float, integer: bool) -> float:
            raw = get(name)
            return (
                default
                if raw is None
                else parse_number(name, raw, low=low, high=high, integer=integer)
            )

        ca_bundle = get(Env.CA_BUNDLE)
        if ca_bundle is not None:
            _reading(Env.CA_BUNDLE, lambda: validate_ca_bundle(Env.CA_BUNDLE, ca_bundle))
        spool_dir = _reading(Env.SPOOL_DIR, lambda: parse_spool_dir(get(Env.SPOOL_DIR), source))
        public_url = get(Env.PUBLIC_URL)
        return cls(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            bucket=validate_bucket(Env.BUCKET, get(Env.BUCKET) or DEFAULT_BUCKET),
            use_ssl=use_ssl,
            region=validate_region(Env.REGION, get(Env.REGION) or DEFAULT_REGION),
            public_url=(
                _reading(Env.PUBLIC_URL, lambda: validate_public_url(public_url, url_mode))
                if public_url
                else ""
            ),
            url_mode="public" if url_mode == "public" else "presigned",
            presign_expires=int(
                number(Env.PRESIGN_EXPIRES, MAX_PRESIGN_SECONDS, 1, MAX_PRESIGN_SECONDS, True)
            ),
            ca_bundle=ca_bundle,
            connect_timeout=number(Env.CONNECT_TIMEOUT, 5.0, 0.1, 300, False),
            read_timeout=number(Env.READ_TIMEOUT, 60.0, 0.1, 3600, False),
            max_attempts=int(number(Env.MAX_ATTEMPTS, 3, 1, 20, True)),
            upload_deadline=number(
                Env.UPLOAD_DEADLINE, DEFAULT_UPLOAD_DEADLINE, 1, MAX_UPLOAD_DEADLINE, False
            ),
            spool_dir=spool_dir,
        )
