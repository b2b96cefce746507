"""The key layout: the specification's examples, the inverse, and hostile input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_recordings import (
    KIND_TAG_KEY,
    KINDS,
    TRANSCRIPT,
    VOICE,
    InvalidInputError,
    company_prefix,
    parse_key,
    recording_key,
    transcript_key,
)
from voice_recordings.keys import MAX_COMPANY_ID, TOKEN_PATTERN, object_key

SPEC_WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def test_specification_examples() -> None:
    assert recording_key(5, "abc-123", SPEC_WHEN) == "company_5/voice/2026/01/15/abc-123.mp3"
    assert transcript_key(5, "abc-123", SPEC_WHEN) == "company_5/transcripts/2026/01/15/abc-123.txt"
    assert (
        recording_key(1, "abc-123-def-456", SPEC_WHEN)
        == "company_1/voice/2026/01/15/abc-123-def-456.mp3"
    )


def test_date_is_the_utc_date_of_the_call() -> None:
    sao_paulo = dt.timezone(dt.timedelta(hours=-3))
    late_evening = dt.datetime(2026, 1, 15, 22, 0, tzinfo=sao_paulo)  # 01:00 UTC on the 16th
    assert recording_key(5, "abc", late_evening) == "company_5/voice/2026/01/16/abc.mp3"


def test_naive_datetime_is_refused_with_the_rule() -> None:
    with pytest.raises(InvalidInputError, match="when must be timezone-aware"):
        recording_key(5, "abc", dt.datetime(2026, 1, 15, 12, 30))


def test_kind_tags_and_content_types() -> None:
    assert KINDS[VOICE].tag == {KIND_TAG_KEY: "voice"}
    assert KINDS[TRANSCRIPT].tag == {KIND_TAG_KEY: "transcript"}
    assert KINDS[VOICE].content_type == "audio/mpeg"
    assert KINDS[TRANSCRIPT].content_type == "text/plain; charset=utf-8"


def test_parse_key_reads_the_specification_example() -> None:
    parsed = parse_key("company_5/voice/2026/01/15/abc-123.mp3")
    assert (parsed.company_id, parsed.kind, parsed.date, parsed.call_uuid) == (
        5,
        "voice",
        dt.date(2026, 1, 15),
        "abc-123",
    )
    assert parse_key("company_5/transcripts/2026/01/15/abc-123.txt").kind == "transcript"


@pytest.mark.parametrize(
    "key",
    [
        "company_5/voice/2026/01/15/abc-123.txt",  # extension of the other kind
        "company_5/transcripts/2026/01/15/abc-123.mp3",
        "company_0/voice/2026/01/15/abc.mp3",  # ids are positive
        "company_05/voice/2026/01/15/abc.mp3",  # one spelling per id
        "company_5/voice/2026/02/30/abc.mp3",  # no such day
        "company_5/voice/2026/1/15/abc.mp3",
        "company_5/voice/2026/01/15/../abc.mp3",
        "company_5/audio/2026/01/15/abc.mp3",
        "/company_5/voice/2026/01/15/abc.mp3",
        "company_5/voice/2026/01/15/abc.mp3/x",
        "",
    ],
)
def test_parse_key_refuses_keys_outside_the_layout(key: str) -> None:
    with pytest.raises(InvalidInputError, match="key"):
        parse_key(key)


@pytest.mark.parametrize(
    "company_id",
    [0, -1, True, False, 1.5, "05", "5 ", "", "1e3", None, MAX_COMPANY_ID + 1, "x"],
)
def test_invalid_company_ids_are_refused(company_id: object) -> None:
    with pytest.raises(InvalidInputError, match="company_id must be a positive integer"):
        recording_key(company_id, "abc", SPEC_WHEN)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call_uuid",
    ["", "../x", "a/b", "a.b", "-abc", "_abc", "abc def", "é", "a" * 129, "a\nb", "%2e%2e", None],
)
def test_hostile_call_ids_are_refused(call_uuid: object) -> None:
    with pytest.raises(InvalidInputError, match="call_uuid must be"):
        recording_key(5, call_uuid, SPEC_WHEN)  # type: ignore[arg-type]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="kind must be one of"):
        object_key("video", 5, "abc", SPEC_WHEN)  # type: ignore[arg-type]


companies = st.integers(min_value=1, max_value=MAX_COMPANY_ID)
calls = st.from_regex(TOKEN_PATTERN, fullmatch=True)
moments = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),
    max_value=dt.datetime(9998, 12, 30),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-3)), dt.timezone.max]),
)


@given(company=companies, call=calls, when=moments, kind=st.sampled_from(sorted(KINDS)))
def test_parse_key_inverts_the_layout(
    company: int, call: str, when: dt.datetime, kind: str
) -> None:
    key = object_key(kind, company, call, when)  # type: ignore[arg-type]
    parsed = parse_key(key)
    assert (parsed.company_id, parsed.kind, parsed.call_uuid) == (company, kind, call)
    assert parsed.date == when.astimezone(dt.UTC).date()
    assert parsed.key == key


@given(company=st.one_of(st.integers(), st.text(max_size=30)), call=st.text(max_size=200))
def test_every_accepted_input_stays_under_its_company_prefix(company: object, call: str) -> None:
    try:
        key = recording_key(company, call, SPEC_WHEN)  # type: ignore[arg-type]
    except InvalidInputError:
        return
    assert key.startswith(company_prefix(company))  # type: ignore[arg-type]
    assert parse_key(key).call_uuid == call
    segments = key.split("/")
    assert len(segments) == 6 and ".." not in segments and all(segments)
