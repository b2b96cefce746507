"""The object key layout: where a recording and its transcript go in the bucket.

    company_{company_id}/voice/{YYYY}/{MM}/{DD}/{call_uuid}.mp3
    company_{company_id}/transcripts/{YYYY}/{MM}/{DD}/{call_uuid}.txt

This module is the one definition of that layout; the uploader, the infra program (through the
``kind`` tag) and the tests import it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final, Literal

from voice_recordings.errors import InvalidInputError

Kind = Literal["voice", "transcript"]
VOICE: Final[Kind] = "voice"
TRANSCRIPT: Final[Kind] = "transcript"

# Lifecycle rules select objects by this tag, because the company id leads the key: no prefix
# selects "all recordings".
KIND_TAG_KEY: Final = "kind"
# Every key of the layout starts with this, then the company id and a slash.
COMPANY_KEY_HEAD: Final = "company_"


@dataclass(frozen=True)
class KindSpec:
    """Everything that differs between a recording and a transcript."""

    kind: Kind
    folder: str
    extension: str
    content_type: str

    @property
    def tag(self) -> dict[str, str]:
        """The object tag every object of this kind carries (``{"kind": "voice"}``)."""
        return {KIND_TAG_KEY: self.kind}


KINDS: Final[dict[Kind, KindSpec]] = {
    VOICE: KindSpec(VOICE, "voice", "mp3", "audio/mpeg"),
    TRANSCRIPT: KindSpec(TRANSCRIPT, "transcripts", "txt", "text/plain; charset=utf-8"),
}

# A call id is a short token: it becomes a path segment, so nothing that could climb or split it.
TOKEN_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
_TOKEN_RE: Final = re.compile(TOKEN_PATTERN)
MAX_COMPANY_ID: Final = 2**63 - 1
# A key's date has four digits (parse_key reads them back): calls outside these years are refused.
MIN_YEAR: Final = 1000
MAX_YEAR: Final = 9999

_KEY_RE: Final = re.compile(
    r"company_(?P<company>[1-9][0-9]{0,18})/(?P<folder>voice|transcripts)/"
    r"(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})/"
    rf"(?P<call>{TOKEN_PATTERN})\.(?P<ext>mp3|txt)"
)


def validate_company_id(company_id: object) -> int:
    """Return ``company_id`` as an int, or raise if it is not a positive integer.

    Accepts an int or a string of decimal digits (ids often arrive as text); refuses booleans,
    zero, negatives and anything else.
    """
    value: int | None = None
    # Subclasses are read through the base type's own methods, so an override of __format__,
    # __str__ or __int__ never reaches a key: what is formatted is a plain int.
    if isinstance(company_id, int) and not isinstance(company_id, bool):
        value = int.__int__(company_id)
    elif isinstance(company_id, str):
        text = str.__str__(company_id)
        if re.fullmatch(r"[1-9][0-9]{0,18}", text):
            value = int(text)
    if value is None or not 1 <= value <= MAX_COMPANY_ID:
        raise InvalidInputError(
            f"company_id must be a positive integer (1 to {MAX_COMPANY_ID}), got {company_id!r}"
        )
    return value


def validate_token(field: str, value: object) -> str:
    """Return ``value`` as a plain ``str`` if it is a short token (letters, digits, ``-``,
    ``_``), else raise. A ``str`` subclass is copied to a plain ``str`` first, so its own
    ``__format__`` or ``__str__`` never reaches a key or a metadata value."""
    plain = str.__str__(value) if isinstance(value, str) else None
    if plain is None or not _TOKEN_RE.fullmatch(plain):
        shown = repr(plain) if plain is not None else object.__repr__(value)
        raise InvalidInputError(
            f"{field} must be 1 to 128 characters of letters, digits, '-' and '_', starting "
            f"with a letter or digit, got {shown}"
        )
    return plain


def utc_datetime(when: object, field: str = "when") -> dt.datetime:
    """``when`` in UTC as a plain ``datetime`` (to the microsecond). Refused: anything but a
    timezone-aware datetime, and instants whose UTC year is outside 1000-9999 (a key holds a
    four-digit year), including the calendar's edges, where the conversion overflows."""
    if not isinstance(when, dt.datetime):
        raise InvalidInputError(f"{field} must be a timezone-aware datetime, got {when!r}")
    try:
        offset = when.utcoffset()
        if when.tzinfo is None or offset is None:
            raise InvalidInputError(
                f"{field} must be timezone-aware (e.g. datetime.now(timezone.utc)), got naive "
                f"{when!r}"
            )
        utc = dt.datetime.astimezone(when, dt.UTC)
        plain = dt.datetime(
            int.__int__(utc.year),
            int.__int__(utc.month),
            int.__int__(utc.day),
            int.__int__(utc.hour),
            int.__int__(utc.minute),
            int.__int__(utc.second),
            int.__int__(utc.microsecond),
            tzinfo=dt.UTC,
        )
    except (OverflowError, ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"{field} must be a date-time between the years {MIN_YEAR} and {MAX_YEAR} in UTC, "
            f"got {when!r} ({exc})"
        ) from None
    if not MIN_YEAR <= plain.year <= MAX_YEAR:
        raise InvalidInputError(
            f"{field} must be a date-time between the years {MIN_YEAR} and {MAX_YEAR} in UTC "
            f"(a key holds a four-digit year), got {when!r}"
        )
    return plain


def utc_date(when: object, field: str = "when") -> dt.date:
    """The UTC calendar date of a timezone-aware datetime (see :func:`utc_datetime`)."""
    return utc_datetime(when, field).date()


def object_key(kind: Kind, company_id: int | str, call_uuid: str, when: dt.datetime) -> str:
    """The key of an object of ``kind``; every accepted input stays under ``company_{id}/``."""
    spec = kind_spec(kind)
    company = validate_company_id(company_id)
    call = validate_token("call_uuid", call_uuid)
    day = utc_date(when)
    return f"company_{company}/{spec.folder}/{_ymd(day)}/{call}.{spec.extension}"


def recording_key(company_id: int | str, call_uuid: str, when: dt.datetime) -> str:
    """``company_5/voice/2026/01/15/abc-123.mp3`` for the call's UTC date."""
    return object_key(VOICE, company_id, call_uuid, when)


def transcript_key(company_id: int | str, call_uuid: str, when: dt.datetime) -> str:
    """``company_5/transcripts/2026/01/15/abc-123.txt`` for the call's UTC date."""
    return object_key(TRANSCRIPT, company_id, call_uuid, when)


def company_prefix(company_id: int | str) -> str:
    """``company_5/``: the prefix that holds everything of one company."""
    return f"{COMPANY_KEY_HEAD}{validate_company_id(company_id)}/"


def _ymd(day: dt.date) -> str:
    # Not strftime: %Y pads years below 1000 differently by platform.
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def kind_spec(kind: str) -> KindSpec:
    """The :class:`KindSpec` of ``kind``, or a clear error naming the accepted kinds."""
    try:
        return KINDS[kind]  # type: ignore[index]
    except KeyError:
        raise InvalidInputError(f"kind must be one of {sorted(KINDS)}, got {kind!r}") from None


@dataclass(frozen=True)
class ParsedKey:
    """What a key says: whose, which kind, which UTC date, which call."""

    company_id: int
    kind: Kind
    date: dt.date
    call_uuid: str

    @property
    def key(self) -> str:
        """The key again (``parse_key(k).key == k``)."""
        spec = KINDS[self.kind]
        day = _ymd(self.date)
        return f"company_{self.company_id}/{spec.folder}/{day}/{self.call_uuid}.{spec.extension}"


def parse_key(key: str) -> ParsedKey:
    """Read a key of the layout back into its parts; any other key raises InvalidInputError."""
    match = _KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise InvalidInputError(
            f"key must look like company_{{id}}/voice/YYYY/MM/DD/{{call_uuid}}.mp3 or "
            f"company_{{id}}/transcripts/YYYY/MM/DD/{{call_uuid}}.txt, got {key!r}"
        )
    kind: Kind = VOICE if match["folder"] == "voice" else TRANSCRIPT
    if match["ext"] != KINDS[kind].extension:
        raise InvalidInputError(
            f"key {key!r}: a {kind} object must end in .{KINDS[kind].extension}"
        )
    try:
        day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        if day.year < MIN_YEAR:
            raise ValueError(f"year must be {MIN_YEAR} to {MAX_YEAR}")
    except ValueError as exc:
        raise InvalidInputError(f"key {key!r} has an invalid date: {exc}") from None
    company = validate_company_id(int(match["company"]))
    return ParsedKey(company_id=company, kind=kind, date=day, call_uuid=match["call"])


# Erasure markers (voice_recordings.subject_requests.erasure): outside every company's prefix,
# so no recording key can be one and the lifecycle (which expires only tagged objects) never
# removes them.
ERASURES_PREFIX: Final = "erasures/"


def erasure_marker_key(company_id: int | str, call_uuid: str | None = None) -> str:
    """``erasures/company_5.json`` (a whole company) or ``erasures/company_5/abc-123.json``."""
    company = validate_company_id(company_id)
    if call_uuid is None:
        return f"{ERASURES_PREFIX}company_{company}.json"
    return f"{ERASURES_PREFIX}company_{company}/{validate_token('call_uuid', call_uuid)}.json"
