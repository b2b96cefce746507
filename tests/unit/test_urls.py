"""URLs: the specification's public form, and presigned URLs signed for the public host."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from voice_recordings import (
    ConfigError,
    InvalidInputError,
    MinioUploader,
    StorageSettings,
    recording_key,
)
from voice_recordings.settings import MAX_PRESIGN_SECONDS

SPEC_KEY = recording_key(5, "abc-123-def-456", dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC))


def uploader(**extra: object) -> MinioUploader:
    options: dict[str, object] = {
        "endpoint": "storage.netplay.net.br",
        "access_key": "voice-ai",
        "secret_key": "not-a-real-secret",
        **extra,
    }
    return MinioUploader(StorageSettings(**options))  # type: ignore[arg-type]


def test_specification_public_url() -> None:
    url = uploader(public_url="https://storage.netplay.net.br").public_url(SPEC_KEY)
    assert url == (
        "https://storage.netplay.net.br/voice-recordings/company_5/voice/2026/01/15/"
        "abc-123-def-456.mp3"
    )


def test_presigned_url_is_signed_for_the_public_host() -> None:
    up = uploader(
        endpoint="minio.internal:9000", use_ssl=False, public_url="https://storage.netplay.net.br"
    )
    url = up.presigned_url(SPEC_KEY, expires_in=3600)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "storage.netplay.net.br")
    assert parts.path == f"/voice-recordings/{SPEC_KEY}"
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["3600"]
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert "not-a-real-secret" not in url


def test_url_mode_selects_the_form() -> None:
    assert uploader(url_mode="public").url_for(SPEC_KEY).endswith(SPEC_KEY)
    assert "X-Amz-Signature" in uploader().url_for(SPEC_KEY)


@pytest.mark.parametrize("expires", [0, -1, MAX_PRESIGN_SECONDS + 1, 1.5, True])
def test_expiry_outside_one_second_to_seven_days_is_refused(expires: object) -> None:
    with pytest.raises(
        InvalidInputError, match="expires_in must be whole seconds from 1 to 604800"
    ):
        uploader().presigned_url(SPEC_KEY, expires_in=expires)  # type: ignore[arg-type]


def test_expiry_limits_are_accepted() -> None:
    for expires in (1, MAX_PRESIGN_SECONDS):
        assert f"X-Amz-Expires={expires}" in uploader().presigned_url(SPEC_KEY, expires)


def test_presigning_behind_a_path_prefix_is_refused() -> None:
    with pytest.raises(ConfigError, match="drop the path or set MINIO_URL_MODE=public"):
        uploader(public_url="https://netplay.net.br/storage").presigned_url(SPEC_KEY)
