"""StorageError carries what went wrong as fields, not only in its message; ids are keywords."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import GeneratedStream, offline_uploader
from voice_recordings.deadline import UploadDeadlineExceeded
from voice_recordings.diagnostics import FIX_UNREACHABLE
from voice_recordings.errors import StorageError
from voice_recordings.keys import TRANSCRIPT, VOICE, object_key
from voice_recordings.uploader import MinioUploader

WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
IDS = ("call_uuid", "company_id", "domain_uuid", "secretary_uuid", "when", "progress")


@pytest.mark.parametrize("kind", [VOICE, TRANSCRIPT])
def test_an_unreachable_server_without_spool_is_described_by_fields(
    kind: str, no_spool: MinioUploader
) -> None:
    uploader = no_spool
    with pytest.raises(StorageError) as caught:
        uploader.upload(kind, b"body", call_uuid="abc-123", company_id=5, when=WHEN)  # type: ignore[arg-type]
    error = caught.value
    assert error.key == object_key(kind, 5, "abc-123", WHEN)  # type: ignore[arg-type]
    assert (error.category, error.fix, error.transient) == ("unreachable", FIX_UNREACHABLE, True)
    assert error.spool_error is None
    assert error.key in str(error) and FIX_UNREACHABLE in str(error)  # the message is unchanged


def test_a_failed_spool_is_a_field_too(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    uploader = offline_uploader(tmp_path / "file" / "spool")
    for body in (b"audio", io.BufferedReader(GeneratedStream(1000)), io.BytesIO(b"audio")):
        with pytest.raises(StorageError) as caught:
            uploader.upload_audio(body, call_uuid="abc-123", company_id=5, when=WHEN)
        error = caught.value
        assert error.key == object_key(VOICE, 5, "abc-123", WHEN)
        assert error.category == "unreachable" and error.transient
        assert error.spool_error is not None and error.spool_error.startswith("SpoolDirectoryError")
        assert error.spool_error in str(error)


def test_a_missed_deadline_says_so_in_its_fields() -> None:
    error = UploadDeadlineExceeded("the upload did not finish", key="company_5/x.mp3")
    assert isinstance(error, StorageError)
    assert (error.category, error.fix, error.transient) == ("deadline", FIX_UNREACHABLE, True)
    assert error.key == "company_5/x.mp3" and str(error) == "the upload did not finish"


@pytest.mark.parametrize("cls", [StorageError, UploadDeadlineExceeded])
def test_the_fields_survive_pickling(cls: type[StorageError]) -> None:
    # e.g. an upload run in a process pool: its error comes back pickled
    error = cls("it failed", key="company_5/k.mp3")
    error.spool_error = "OSError: disk full"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == "it failed"
    assert copy.__dict__ == error.__dict__


UPLOADS: list[tuple[str, Callable[..., Any]]] = [
    ("upload_audio", MinioUploader.upload_audio),
    ("upload_transcript", MinioUploader.upload_transcript),
    ("upload_audio_async", MinioUploader.upload_audio_async),
    ("upload_transcript_async", MinioUploader.upload_transcript_async),
    ("upload", MinioUploader.upload),
]


@pytest.mark.parametrize(("name", "method"), UPLOADS)
def test_the_ids_are_keyword_only(name: str, method: Callable[..., Any]) -> None:
    parameters = inspect.signature(method).parameters
    assert [p for p in IDS if p in parameters] == list(IDS), name
    assert all(parameters[p].kind is inspect.Parameter.KEYWORD_ONLY for p in IDS), name
    assert parameters["call_uuid"].default is inspect.Parameter.empty  # required
    assert parameters["company_id"].default is inspect.Parameter.empty


@pytest.fixture(scope="module")
def no_spool() -> MinioUploader:
    return offline_uploader(None)


@pytest.mark.parametrize(("name", "method"), UPLOADS)
def test_positional_ids_are_refused_before_any_request(
    name: str, method: Callable[..., Any], no_spool: MinioUploader
) -> None:
    uploader = no_spool
    leading = (VOICE, b"x") if name == "upload" else (b"x",)
    with pytest.raises(TypeError, match="positional argument"):
        result = getattr(uploader, name)(*leading, "abc-123", 5)
        if inspect.iscoroutine(result):
            asyncio.run(result)
