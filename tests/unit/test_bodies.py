"""The body sources: whatever the upload read before failing, the spool gets the whole body."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_recordings.bodies import (
    BytesSource,
    KeepOpen,
    SeekableSource,
    StreamSource,
    body_source,
    single_put_body,
)
from voice_recordings.checksums import UPLOAD_CHECKSUM
from voice_recordings.keys import VOICE, recording_key
from voice_recordings.metadata import object_metadata
from voice_recordings.spool.entry import BODY_FILE
from voice_recordings.spool.spool import Spool

WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


class Pipe(io.RawIOBase):
    """A non-seekable stream over ``data`` (like a pipe: it cannot rewind)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000),
    skipped=st.binary(max_size=50),
    shape=st.sampled_from(["bytes", "seekable", "stream"]),
    sent=st.integers(min_value=0, max_value=4000),
    read_size=st.integers(min_value=1, max_value=700),
)
def test_a_failed_upload_spools_the_whole_body_whatever_was_read(
    data: bytes, skipped: bytes, shape: str, sent: int, read_size: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        spool = Spool(directory)
        if shape == "bytes":
            given_body: bytes | io.IOBase = data
        elif shape == "seekable":
            given_body = io.BytesIO(skipped + data)
            given_body.seek(len(skipped))  # the upload starts where the caller's file is
        else:
            given_body = io.BufferedReader(Pipe(data))
        source = body_source(given_body, spool)
        expected_type = {"bytes": BytesSource, "seekable": SeekableSource, "stream": StreamSource}
        assert type(source) is expected_type[shape]
        # the transfer reads some of it, in chunks, then fails
        read = 0
        while read < sent and hasattr(source.body, "read"):
            chunk = source.body.read(min(read_size, sent - read))
            if not chunk:
                break
            read += len(chunk)
        writer = source.recover()
        key = recording_key(5, "abc-123", WHEN)
        entry_dir = writer.commit(key, VOICE, object_metadata("abc-123", 5), "unreachable", "b")
        source.close()  # committed: nothing to drop
        assert spool.read(entry_dir).size == len(data)
        assert (entry_dir / BODY_FILE).read_bytes() == data
        assert spool.count() == 1
        if shape == "seekable":
            assert not given_body.closed  # type: ignore[union-attr]


@pytest.mark.parametrize("shape", ["bytes", "seekable", "stream"])
def test_a_successful_upload_leaves_nothing_in_the_spool(tmp_path: Path, shape: str) -> None:
    spool = Spool(tmp_path / "spool")
    data = os.urandom(5000)
    body = {"bytes": data, "seekable": io.BytesIO(data), "stream": io.BufferedReader(Pipe(data))}
    source = body_source(body[shape], spool)
    if hasattr(source.body, "read"):
        assert source.body.read() == data  # the transfer reads it all, and succeeds
    source.close()
    # nothing, not even the tee's partial entry (a stream's spool directory was made for it)
    assert spool.count() == 0
    assert (os.listdir(spool.directory) if spool.directory.exists() else []) == []


def test_keep_open_never_closes_the_callers_file() -> None:
    file = io.BytesIO(b"audio")
    wrapped = KeepOpen(file)
    wrapped.close()  # s3transfer closes a single PUT's body
    assert not file.closed and wrapped.read() == b"audio"


def test_a_file_slice_is_the_file_from_where_it_stood_and_rewinds_there() -> None:
    file = io.BytesIO(b"skip" + b"recording")
    file.seek(4)
    whole = single_put_body(file)
    assert whole is not None and whole.length == len(b"recording")
    assert whole.checksum_b64() == UPLOAD_CHECKSUM.b64(b"recording")
    assert whole.read(3) == b"rec" and whole.tell() == 3
    whole.seek(0)  # botocore rewinds a body to 0 before a retry: the slice's start
    assert whole.read() == b"recording" and whole.read() == b""
    assert whole.seek(0, io.SEEK_END) == len(b"recording")  # how botocore measures it
    whole.close()
    assert not file.closed


def test_a_file_shorter_than_announced_sends_only_what_was_hashed() -> None:
    file = io.BytesIO(b"recording")
    whole = single_put_body(file)
    assert whole is not None
    file.truncate(4)  # the file shrank between the size and the hash
    whole.checksum_b64()
    assert whole.length == 4 and whole.read() == b"reco"
