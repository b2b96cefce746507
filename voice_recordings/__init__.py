"""Voice AI call recordings on MinIO: key layout, metadata, settings, URLs and the uploader.

This package never imports pulumi: the Voice AI service installs it alone.
"""

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
from voice_recordings.metrics import UploadMetrics, upload_metrics
from voice_recordings.replay import ReplayReport, replay_spool
from voice_recordings.settings import DEFAULT_BUCKET, DEFAULT_REGION, Env, StorageSettings
from voice_recordings.spool import CorruptEntryError, Spool
from voice_recordings.uploader import MinioUploader, UploadResult, get_minio_uploader

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
