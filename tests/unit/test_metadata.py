"""Object metadata: the specification's table, and its parser."""

from __future__ import annotations

import datetime as dt

import pytest

from voice_recordings import InvalidInputError, object_metadata, parse_object_metadata
from voice_recordings.metadata import METADATA_FIELDS

SPEC_UPLOADED_AT = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def test_specification_table() -> None:
    meta = object_metadata(
        call_uuid="abc-123-def-456",
        company_id=5,
        domain_uuid="xyz-789",
        secretary_uuid="sec-456",
        uploaded_at=SPEC_UPLOADED_AT,
    )
    assert meta == {
        "call-uuid": "abc-123-def-456",
        "company-id": "5",
        "domain-uuid": "xyz-789",
        "secretary-uuid": "sec-456",
        "uploaded-at": "2026-01-15T12:30:00Z",
    }
    assert tuple(meta) == METADATA_FIELDS


def test_optional_fields_are_omitted_and_uploaded_at_defaults_to_now() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    meta = object_metadata("abc", 5)
    assert set(meta) == {"call-uuid", "company-id", "uploaded-at"}
    uploaded = parse_object_metadata(meta).uploaded_at
    assert before <= uploaded <= dt.datetime.now(dt.UTC)


def test_uploaded_at_is_converted_to_utc() -> None:
    brt = dt.timezone(dt.timedelta(hours=-3))
    meta = object_metadata("abc", 5, uploaded_at=dt.datetime(2026, 1, 15, 9, 30, tzinfo=brt))
    assert meta["uploaded-at"] == "2026-01-15T12:30:00Z"


def test_round_trip_through_what_head_object_returns() -> None:
    meta = object_metadata("abc-123", 5, "xyz-789", None, SPEC_UPLOADED_AT)
    parsed = parse_object_metadata({f"X-Amz-Meta-{k.title()}": v for k, v in meta.items()})
    assert parsed.call_uuid == "abc-123"
    assert parsed.company_id == 5
    assert parsed.domain_uuid == "xyz-789"
    assert parsed.secretary_uuid is None
    assert parsed.uploaded_at == SPEC_UPLOADED_AT


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"domain_uuid": "a/b"}, "domain_uuid"),
        ({"secretary_uuid": "ção"}, "secretary_uuid"),
        ({"uploaded_at": dt.datetime(2026, 1, 15)}, "uploaded_at"),
        ({"call_uuid": "../x"}, "call_uuid"),
        ({"company_id": 0}, "company_id"),
    ],
)
def test_invalid_values_name_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"call_uuid": "abc", "company_id": 5, **kwargs}
    with pytest.raises(InvalidInputError, match=field):
        object_metadata(**args)  # type: ignore[arg-type]


def test_parser_reports_missing_and_malformed_fields() -> None:
    with pytest.raises(InvalidInputError, match="lacks 'uploaded-at'"):
        parse_object_metadata({"call-uuid": "abc", "company-id": "5"})
    with pytest.raises(InvalidInputError, match="uploaded-at must look like"):
        parse_object_metadata({"call-uuid": "abc", "company-id": "5", "uploaded-at": "yesterday"})
