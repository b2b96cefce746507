"""The endpoint and URL rules: ``MINIO_ENDPOINT``, ``MINIO_PUBLIC_URL`` and the stack's own.

A URL is taken apart with :func:`urllib.parse.urlsplit` and an IPv6 literal checked with
:mod:`ipaddress`, as minio-py does (``minio/helpers.py``, ``_parse_url``); each way a value can be
wrong is refused in one message naming the setting, and no message ever shows credentials
(:func:`redact_url`). The Pulumi program's config (:mod:`infra.config`) applies the same rules.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

from voice_recordings.errors import ConfigError
from voice_recordings.setting_names import Env

_SCHEMES: Final = ("http", "https")
# A host name as botocore's is_valid_endpoint_url takes it (the client refuses any other when it
# is built): dot-separated labels of letters, digits and '-', each at most 63 characters, no '_';
# an IPv4 address is one too.
_HOST_RE: Final = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


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


def has_space_or_control(text: str) -> bool:
    """True when ``text`` holds a space or a character that does not print (a newline, NUL)."""
    return any(c.isspace() or not c.isprintable() for c in text)


def _authority_and_path(name: str, rest: str, text: str) -> tuple[str, str]:
    """``rest`` (what follows ``scheme://`` in ``text``, or all of it) as urlsplit splits it:
    the authority (``host[:port]``) and the path after its first ``/``.

    User-info is refused whatever it holds: urlsplit would cut a secret holding ``/``, ``?`` or
    ``#`` short, so with an ``@`` all of ``rest`` is the authority, for :func:`parse_host_port`
    to refuse without showing it. Otherwise a query or fragment is refused here. An authority
    urlsplit will not split (an unclosed ``[``, a character NFKC turns into a delimiter) is kept
    whole for :func:`parse_host_port` to say what is wrong with it."""
    if "@" in rest:
        return rest, ""
    if "?" in rest or "#" in rest:
        raise ConfigError(
            f"{name} must not have a query or fragment ('?', '#'), got {redact_url(text)!r}"
        )
    try:
        parts = urlsplit(f"//{rest}")
    except ValueError:
        authority, _, path = rest.partition("/")
        return authority, path
    return parts.netloc, parts.path[1:]


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
    if has_space_or_control(text):
        raise ConfigError(f"{name} must be host[:port] without spaces, got {redact_url(text)!r}")
    scheme_ssl: bool | None = None
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() not in _SCHEMES:
            raise ConfigError(f"{name} scheme must be http or https, got {redact_url(text)!r}")
        scheme_ssl = scheme.lower() == "https"
    else:
        rest = text
    netloc, path = _authority_and_path(name, rest, text)
    if path:
        raise ConfigError(
            f"{name} must be host[:port] without a path, got {redact_url(text)!r}: put the "
            f"bucket in {Env.BUCKET}"
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
    if not sep or scheme.lower() not in _SCHEMES or not rest:
        raise ConfigError(
            f"{name} must be an http(s) URL such as https://storage.netplay.net.br, got {shown}"
        )
    if has_space_or_control(text):
        raise ConfigError(f"{name} must not contain spaces, got {shown}")
    netloc, path = _authority_and_path(name, rest, text)
    parse_host_port(name, netloc, text)
    path = path.rstrip("/")
    if path and not allow_path:
        raise ConfigError(f"{name} must not have a path (/{path}), got {shown}")
    return f"{scheme.lower()}://{netloc}" + (f"/{path}" if path else "")


def validate_public_url(raw: str, url_mode: str = "presigned", name: str = Env.PUBLIC_URL) -> str:
    """``MINIO_PUBLIC_URL``: :func:`validate_http_url`, with a path only when ``url_mode`` is
    ``public`` (a presigned URL is signed for a host of its own)."""
    url = validate_http_url(name, raw)
    path = urlsplit(url).path[1:]
    if path and url_mode != "public":
        raise ConfigError(
            f"{name} has a path (/{path}); presigned URLs need a host of their own: "
            f"drop the path or set {Env.URL_MODE}=public"
        )
    return url
