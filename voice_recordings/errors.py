"""The package's error hierarchy: a few classes, each saying what went wrong and how to fix it.

Invalid input is a ``ValueError`` (so callers that already catch ``ValueError`` keep working);
storage failures are ``StorageError``, which also carries what went wrong as fields, so a caller
can act on it without parsing the message.
"""

from __future__ import annotations

from typing import Any


class VoiceRecordingsError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(VoiceRecordingsError, ValueError):
    """An id, a date, a key or a metadata value that breaks the contract (names field and rule)."""


class ConfigError(VoiceRecordingsError, ValueError):
    """A storage setting is missing or malformed (names the environment variable and the rule)."""


class StorageError(VoiceRecordingsError):
    """The storage server refused or could not be reached; the message carries the fix.

    The same facts as fields: ``key`` the object concerned (None when none is); ``category``
    the failure's class as :func:`voice_recordings.diagnostics.diagnose` names it
    (``"unreachable"``, ``"server_error"``, ``"credentials"``, ``"access_denied"``,
    ``"missing_bucket"``, ``"rejected"``, ``"ssl"``, ``"not_s3"`` (an answer that is not S3's),
    ``"unknown"``; ``"deadline"`` for
    ``MINIO_UPLOAD_DEADLINE``; None when not classified); ``fix`` what to do; ``transient``
    whether trying later may succeed; ``spool_error`` why the local spool could not keep the
    object either (None when the spool was not tried or worked).
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        category: str | None = None,
        fix: str | None = None,
        transient: bool = False,
        spool_error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.category = category
        self.fix = fix
        self.transient = transient
        self.spool_error = spool_error

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword fields are not in ``args``: without this a pickled copy (a process pool's
        # result) would lose them.
        return (_rebuild, (type(self), str(self), self.__dict__.copy()))


def _rebuild(cls: type[StorageError], message: str, fields: dict[str, Any]) -> StorageError:
    error = cls.__new__(cls)
    StorageError.__init__(error, message)
    error.__dict__.update(fields)
    return error
