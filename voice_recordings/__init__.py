"""Voice AI call recordings on MinIO: key layout, metadata, settings, URLs and the uploader.

This package never imports pulumi: the Voice AI service installs it alone.

The conventions (errors, keys, metadata, settings) load with the package; the uploader, spool,
replay and metrics (boto3, prometheus_client) load on first use, so what needs only the
conventions (the Pulumi program, the guardrails, every ``pulumi`` run's language host) does not
pay a fifth of a second for boto3 each time.
"""

import importlib
from typing import TYPE_CHECKING, Any

from voice_recordings.errors import (
    ConfigError,
    InvalidInputError,
    StorageError,
    VoiceRecordingsError,
)
from voice_recordings.keys import (
    KIND_TAG_KEY,
    KINDS,
    TRANSCRIPT,
    VOICE,
    Kind,
    KindSpec,
    ParsedKey,
    company_prefix,
    parse_key,
    recording_key,
    transcript_key,
)
from voice_recordings.metadata import ObjectMetadata, object_metadata, parse_object_metadata
from voice_recordings.settings import DEFAULT_BUCKET, DEFAULT_REGION, Env, StorageSettings

if TYPE_CHECKING:
    from voice_recordings.metrics import UploadMetrics, upload_metrics
    from voice_recordings.spool.entry import CorruptEntryError
    from voice_recordings.spool.replay import ReplayReport, replay_spool
    from voice_recordings.spool.spool import Spool
    from voice_recordings.upload_call import UploadResult
    from voice_recordings.uploader import MinioUploader, get_minio_uploader

# name -> the module that defines it, imported on first use (PEP 562).
_ON_FIRST_USE = {
    "UploadMetrics": "voice_recordings.metrics",
    "upload_metrics": "voice_recordings.metrics",
    "ReplayReport": "voice_recordings.spool.replay",
    "replay_spool": "voice_recordings.spool.replay",
    "CorruptEntryError": "voice_recordings.spool.entry",
    "Spool": "voice_recordings.spool.spool",
    "MinioUploader": "voice_recordings.uploader",
    "UploadResult": "voice_recordings.upload_call",
    "get_minio_uploader": "voice_recordings.uploader",
}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_REGION",
    "KINDS",
    "KIND_TAG_KEY",
    "TRANSCRIPT",
    "VOICE",
    "ConfigError",
    "CorruptEntryError",
    "Env",
    "InvalidInputError",
    "Kind",
    "KindSpec",
    "MinioUploader",
    "ObjectMetadata",
    "ParsedKey",
    "ReplayReport",
    "Spool",
    "StorageError",
    "StorageSettings",
    "UploadMetrics",
    "UploadResult",
    "VoiceRecordingsError",
    "company_prefix",
    "get_minio_uploader",
    "object_metadata",
    "parse_key",
    "parse_object_metadata",
    "recording_key",
    "replay_spool",
    "transcript_key",
    "upload_metrics",
]
