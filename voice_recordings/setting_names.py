"""The ``MINIO_*`` variable names, in one place (the infra's ``voice_ai_env`` uses them too).

Apart from :mod:`voice_recordings.settings` (which declares what each one means and how it is
read) so that the endpoint rules, whose messages name other settings, need not import it.
"""

from __future__ import annotations

from typing import Final


class Env:
    """The environment variable names the runtime reads (``Env.ENDPOINT`` ...)."""

    ENDPOINT: Final = "MINIO_ENDPOINT"
    ACCESS_KEY: Final = "MINIO_ACCESS_KEY"
    SECRET_KEY: Final = "MINIO_SECRET_KEY"
    BUCKET: Final = "MINIO_BUCKET"
    USE_SSL: Final = "MINIO_USE_SSL"
    REGION: Final = "MINIO_REGION"
    PUBLIC_URL: Final = "MINIO_PUBLIC_URL"
    URL_MODE: Final = "MINIO_URL_MODE"
    PRESIGN_EXPIRES: Final = "MINIO_PRESIGN_EXPIRES"
    CA_BUNDLE: Final = "MINIO_CA_BUNDLE"
    CONNECT_TIMEOUT: Final = "MINIO_CONNECT_TIMEOUT"
    READ_TIMEOUT: Final = "MINIO_READ_TIMEOUT"
    MAX_ATTEMPTS: Final = "MINIO_MAX_ATTEMPTS"
    SPOOL_DIR: Final = "MINIO_SPOOL_DIR"
    UPLOAD_DEADLINE: Final = "MINIO_UPLOAD_DEADLINE"
