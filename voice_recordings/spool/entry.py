"""A spool entry's format: the names in a spool directory and what ``entry.json`` holds.

An entry is a directory named like :data:`ENTRY_NAME` holding :data:`BODY_FILE` (the bytes,
exactly as the caller gave them) and :data:`ENTRY_FILE` (:class:`SpoolEntry` as JSON: key, kind,
content type, metadata, tags, size, sha256, never a secret). ``entry.json`` is checked field by
field when it is read (:meth:`SpoolEntry.from_json`): an entry replay cannot trust is a
:class:`CorruptEntryError`, kept for a person. The directory and its life:
:mod:`voice_recordings.spool.spool`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Final

from voice_recordings.errors import VoiceRecordingsError
from voice_recordings.keys import Kind, kind_spec, parse_key
from voice_recordings.metadata import METADATA_FIELDS, parse_object_metadata

ENTRY_FILE: Final = "entry.json"
BODY_FILE: Final = "body"
FORMAT_VERSION: Final = 1
TMP_PREFIX: Final = ".tmp-"
TRASH_PREFIX: Final = ".trash-"
# entry.json is a few hundred bytes; a bigger one is not ours.
MAX_ENTRY_JSON: Final = 64 * 1024
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
# The names SpoolWriter gives entries; nothing else in the directory is one.
ENTRY_NAME: Final = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{12}")


class CorruptEntryError(VoiceRecordingsError):
    """A spool entry whose JSON is unreadable or whose body does not match its size/sha256."""


@dataclass(frozen=True)
class SpoolEntry:
    """What ``entry.json`` records about one spooled object."""

    key: str
    kind: Kind
    content_type: str
    metadata: dict[str, str]
    tags: dict[str, str]
    size: int
    sha256: str
    spooled_at: str
    reason: str
    bucket: str

    @property
    def checksum_b64(self) -> str:
        """The sha256 as S3 writes it (base64 of the digest)."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def to_json(self) -> str:
        """The ``entry.json`` text."""
        return json.dumps({"format": FORMAT_VERSION, **self.__dict__}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SpoolEntry:
        """Parse and validate ``entry.json``; anything off raises CorruptEntryError."""
        try:
            raw = json.loads(text)
            if raw.pop("format") != FORMAT_VERSION:
                raise ValueError("unknown format version")
            entry = cls(**raw)
            parsed = parse_key(entry.key)
            if (
                parsed.kind != entry.kind
                or kind_spec(entry.kind).content_type != entry.content_type
            ):
                raise ValueError("kind or content type does not match the key")
            unknown = set(entry.metadata) - set(METADATA_FIELDS)
            if unknown:  # the uploader writes object_metadata's fields and nothing else
                raise ValueError(
                    f"metadata has fields the uploader never writes: {sorted(unknown)}"
                )
            meta = parse_object_metadata(entry.metadata)
            if (meta.company_id, meta.call_uuid) != (parsed.company_id, parsed.call_uuid):
                # Uploaded to the key, it would file one company's (or call's) recording
                # under another's prefix.
                raise ValueError(
                    f"the key says company {parsed.company_id}, call {parsed.call_uuid!r}; the "
                    f"metadata says company {meta.company_id}, call {meta.call_uuid!r}"
                )
            for name in ("spooled_at", "reason", "bucket"):
                if not isinstance(getattr(entry, name), str):
                    raise ValueError(f"{name} must be a string")
            if entry.tags != kind_spec(entry.kind).tag:
                raise ValueError(f"tags must be {kind_spec(entry.kind).tag}")
            if not isinstance(entry.size, int) or entry.size < 0:
                raise ValueError("size must be a whole number of bytes")
            if not isinstance(entry.sha256, str) or not _SHA256_HEX.fullmatch(entry.sha256):
                raise ValueError("sha256 must be 64 lowercase hex digits")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CorruptEntryError(f"{ENTRY_FILE} is invalid: {exc}") from None
        return entry
