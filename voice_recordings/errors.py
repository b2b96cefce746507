"""The package's error hierarchy: a few classes, each saying what went wrong and how to fix it.

Invalid input is a ``ValueError`` (so callers that already catch ``ValueError`` keep working);
storage failures are ``StorageError``.
"""

from __future__ import annotations


class VoiceRecordingsError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(VoiceRecordingsError, ValueError):
    """An id, a date, a key or a metadata value that breaks the contract (names field and rule)."""


class ConfigError(VoiceRecordingsError, ValueError):
    """A storage setting is missing or malformed (names the environment variable and the rule)."""


class StorageError(VoiceRecordingsError):
    """The storage server refused or could not be reached; the message carries the fix."""
