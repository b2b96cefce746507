"""The spool never makes things worse: foreign things, orphans, links, devices and loose
permissions in the spool directory (through the Spool API, the uploader and ``replay``)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import stat
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import GeneratedStream, offline_uploader, spool_entry
from voice_recordings import cli
from voice_recordings.errors import StorageError
from voice_recordings.keys import recording_key
from voice_recordings.metadata import object_metadata
from voice_recordings.settings import Env
from voice_recordings.spool.entry import BODY_FILE, ENTRY_FILE, TMP_PREFIX
from voice_recordings.spool.spool import ORPHAN_AGE, Spool
from voice_recordings.spool.spool_directory import SpoolDirectoryError

WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
KEY = recording_key(5, "abc-123", WHEN)
META = object_metadata("abc-123", 5, uploaded_at=WHEN)


def add(spool: Spool, body: bytes = b"audio") -> Path:
    return spool_entry(spool, KEY, META, body)


def foreign_things(directory: Path, outside: Path) -> None:
    """What a person, a volume or an attacker may leave in a spool directory."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    (directory / "README.txt").write_text("notes")
    (directory / "lost+found").mkdir()
    (directory / "20260115T123000123456Z-3f9a0c1b2d4e.json").write_text("{}")  # a file
    os.mkfifo(directory / "20260115T123000123456Z-000000000001")  # a FIFO named like an entry
    outside.mkdir()
    (directory / "20260115T123000123456Z-000000000002").symlink_to(outside)  # a linked dir


def test_foreign_things_are_neither_counted_nor_replayed(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    foreign_things(spool_dir, tmp_path / "outside")
    uploader = offline_uploader(spool_dir)
    assert uploader.spool is not None and uploader.spool.count() == 0  # the alert clears
    report = uploader.replay_spool()  # nothing to do: no request is made, nothing crashes
    assert report.ok and report.corrupt == [] and report.stopped is None
    assert (spool_dir / "README.txt").read_text() == "notes"  # and nothing foreign is removed
    assert (spool_dir / "lost+found").is_dir()


def test_cli_replay_and_check_ignore_foreign_things(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    foreign_things(spool_dir, tmp_path / "outside")
    env = {
        Env.ENDPOINT: "127.0.0.1:9",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.USE_SSL: "false",
        Env.SPOOL_DIR: str(spool_dir),
    }
    out = io.StringIO()
    assert cli.main(["replay"], env, out) == cli.EXIT_OK
    assert "remaining 0" in out.getvalue()


def test_orphaned_tmp_entries_are_swept_after_their_age(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    writer = spool.writer()  # a crash mid-write leaves this behind
    writer.write(b"half a recording")
    fresh = spool.writer()  # an upload still being teed: must survive
    old = time.time() - ORPHAN_AGE - 60
    for path in (writer.tmp_dir / BODY_FILE, writer.tmp_dir):
        os.utime(path, (old, old))
    stray_link = tmp_path / f"{TMP_PREFIX}link"
    stray_link.symlink_to(tmp_path / "elsewhere")
    os.utime(stray_link, (old, old), follow_symlinks=False)

    offline_uploader(tmp_path).replay_spool()

    assert not writer.tmp_dir.exists() and not stray_link.is_symlink()
    assert fresh.tmp_dir.exists()
    fresh.abort()


def test_a_linked_body_is_never_read(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    entry = add(spool)
    (entry / BODY_FILE).unlink()
    (entry / BODY_FILE).symlink_to("/dev/zero")  # would hang a reader forever
    started = time.monotonic()
    report = offline_uploader(spool.directory).replay_spool()
    assert time.monotonic() - started < 10
    assert [name for name, _ in report.corrupt] == [entry.name]
    assert "symbolic link" in report.corrupt[0][1]
    assert entry.exists()  # kept for a person


def test_a_body_that_is_a_fifo_or_a_linked_json_is_never_read(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    fifo_entry = add(spool)
    (fifo_entry / BODY_FILE).unlink()
    os.mkfifo(fifo_entry / BODY_FILE)  # opening it for reading would block
    report = offline_uploader(spool.directory).replay_spool()
    assert [name for name, _ in report.corrupt] == [fifo_entry.name]
    assert "not a regular file" in report.corrupt[0][1]

    linked = add(spool)
    outside = tmp_path / "entry.json"
    outside.write_text((linked / ENTRY_FILE).read_text())
    (linked / ENTRY_FILE).unlink()
    (linked / ENTRY_FILE).symlink_to(outside)
    report = offline_uploader(spool.directory).replay_spool()
    assert linked.name in [name for name, _ in report.corrupt]  # reported, not read
    assert (linked / ENTRY_FILE).is_symlink() and outside.exists()


def test_a_spool_directory_others_can_write_is_repaired(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    spool_dir.chmod(0o777)
    with caplog.at_level(logging.WARNING, "voice_recordings"):
        result = offline_uploader(spool_dir).upload_audio(
            b"audio", call_uuid="abc-123", company_id=5, when=WHEN
        )
    assert result.spooled
    assert stat.S_IMODE(spool_dir.stat().st_mode) == 0o700
    assert "open to others" in caplog.text


def test_a_spool_directory_of_someone_else_that_others_can_write_is_refused(
    tmp_path: Path,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a directory owned by another user")
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    os.chown(spool_dir, 12345, 12345)
    spool_dir.chmod(0o777)
    with pytest.raises(SpoolDirectoryError, match="owned by uid 12345"):
        Spool(spool_dir).writer()
    with pytest.raises(StorageError, match=r"the spool at .* also failed"):
        offline_uploader(spool_dir).upload_audio(
            b"audio", call_uuid="abc-123", company_id=5, when=WHEN
        )
    assert os.listdir(spool_dir) == []


def test_an_unusable_spool_fails_with_both_reasons(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    uploader = offline_uploader(tmp_path / "file" / "spool")
    assert uploader.spool is not None and uploader.spool.count() == 0  # the gauge still reads
    for body in (b"audio", io.BufferedReader(GeneratedStream(1000)), io.BytesIO(b"audio")):
        with pytest.raises(StorageError) as caught:
            uploader.upload_audio(body, call_uuid="abc-123", company_id=5, when=WHEN)
        message = str(caught.value)
        assert "storage server unreachable" in message  # the upload's failure
        assert "Not a directory" in message  # and the spool's


@settings(max_examples=30, deadline=None)
@given(
    fmt=st.sampled_from(["B", "H", "I", "Q"]),
    items=st.integers(min_value=0, max_value=64),
)
def test_memoryviews_of_any_item_size_spool_their_bytes(fmt: str, items: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        spool = Spool(directory)
        size = {"B": 1, "H": 2, "I": 4, "Q": 8}[fmt]
        raw = bytearray(os.urandom(items * size))
        view = memoryview(raw).cast(fmt)  # type: ignore[call-overload]
        entry_dir = spool_entry(spool, KEY, META, view, reason="x")
        entry = spool.read(entry_dir)  # valid: size and sha256 match the body
        assert entry.size == len(raw) == view.nbytes
        assert (entry_dir / BODY_FILE).read_bytes() == bytes(raw)


def test_check_reports_a_spool_others_can_write_leaves_it_and_counts_only_entries(
    tmp_path: Path,
) -> None:
    spool_dir = tmp_path / "spool"
    foreign_things(spool_dir, tmp_path / "outside")
    spool_dir.chmod(0o777)
    env = {
        Env.ENDPOINT: "127.0.0.1:9",  # nothing listens: the server checks fail, the spool's runs
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.USE_SSL: "false",
        Env.SPOOL_DIR: str(spool_dir),
    }
    out = io.StringIO()
    cli.main(["check"], env, out)
    spool_line = [line for line in out.getvalue().splitlines() if line.split()[1] == "spool"]
    assert spool_line and spool_line[0].startswith("WARN") and "open to others" in spool_line[0]
    assert spool_line[0].endswith(f"Fix: chmod 700 {spool_dir}")
    assert "wait" not in spool_line[0]  # nothing in it is an entry
    # A check changes nothing on the disk: replay or the next spooled recording repairs it.
    assert stat.S_IMODE(spool_dir.stat().st_mode) == 0o777
    Spool(spool_dir).ensure_directory()
    assert stat.S_IMODE(spool_dir.stat().st_mode) == 0o700
