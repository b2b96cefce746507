"""Object metadata: what each stored object says about its call (sent as ``x-amz-meta-*``).

Names are the specification's table: ``call-uuid``, ``company-id``, ``domain-uuid``,
``secretary-uuid``, ``uploaded-at``. Values are ASCII; ``uploaded-at`` is ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from voice_recordings.errors import InvalidInputError
from voice_recordings.keys import utc_datetime, validate_company_id, validate_token

META_CALL_UUID: Final = "call-uuid"
META_COMPANY_ID: Final = "company-id"
META_DOMAIN_UUID: Final = "domain-uuid"
META_SECRETARY_UUID: Final = "secretary-uuid"
META_UPLOADED_AT: Final = "uploaded-at"
METADATA_FIELDS: Final = (
    META_CALL_UUID,
    META_COMPANY_ID,
    META_DOMAIN_UUID,
    META_SECRETARY_UUID,
    META_UPLOADED_AT,
)
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def format_timestamp(when: dt.datetime, field: str = "uploaded_at") -> str:
    """``2026-01-15T12:30:00Z``: a timezone-aware datetime in UTC, to the second."""
    return utc_datetime(when, field).strftime(TIMESTAMP_FORMAT)


def object_metadata(
    call_uuid: str,
    company_id: int | str,
    domain_uuid: str | None = None,
    secretary_uuid: str | None = None,
    uploaded_at: dt.datetime | None = None,
) -> dict[str, str]:
    """The ``Metadata=`` dict for boto3; absent optional fields are omitted."""
    meta = {
        META_CALL_UUID: validate_token("call_uuid", call_uuid),
        META_COMPANY_ID: str(validate_company_id(company_id)),
    }
    if domain_uuid is not None:
        meta[META_DOMAIN_UUID] = validate_token("domain_uuid", domain_uuid)
    if secretary_uuid is not None:
        meta[META_SECRETARY_UUID] = validate_token("secretary_uuid", secretary_uuid)
    meta[META_UPLOADED_AT] = format_timestamp(uploaded_at or dt.datetime.now(dt.UTC))
    return meta


@dataclass(frozen=True)
class ObjectMetadata:
    """The metadata of a stored object, parsed and typed."""

    call_uuid: str
    company_id: int
    uploaded_at: dt.datetime
    domain_uuid: str | None = None
    secretary_uuid: str | None = None


def parse_object_metadata(metadata: Mapping[str, str]) -> ObjectMetadata:
    """Parse what ``head_object(...)["Metadata"]`` returns (names in any case, with or without
    the ``x-amz-meta-`` prefix); a missing or malformed field raises InvalidInputError."""
    prefix = "x-amz-meta-"
    meta = {
        (name.lower()[len(prefix) :] if name.lower().startswith(prefix) else name.lower()): value
        for name, value in metadata.items()
    }
    for required in (META_CALL_UUID, META_COMPANY_ID, META_UPLOADED_AT):
        if required not in meta:
            raise InvalidInputError(f"object metadata lacks {required!r}: got {sorted(meta)}")
    try:
        uploaded = dt.datetime.strptime(meta[META_UPLOADED_AT], TIMESTAMP_FORMAT)
    except ValueError:
        raise InvalidInputError(
            f"{META_UPLOADED_AT} must look like 2026-01-15T12:30:00Z, got "
            f"{meta[META_UPLOADED_AT]!r}"
        ) from None
    domain = meta.get(META_DOMAIN_UUID)
    secretary = meta.get(META_SECRETARY_UUID)
    return ObjectMetadata(
        call_uuid=validate_token(META_CALL_UUID, meta[META_CALL_UUID]),
        company_id=validate_company_id(meta[META_COMPANY_ID]),
        uploaded_at=uploaded.replace(tzinfo=dt.UTC),
        domain_uuid=validate_token(META_DOMAIN_UUID, domain) if domain is not None else None,
        secretary_uuid=(
            validate_token(META_SECRETARY_UUID, secretary) if secretary is not None else None
        ),
    )
