"""The spool's on-disk format, atomicity and claiming (no server involved)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.support import GeneratedStream, spool_entry
from voice_recordings.errors import ConfigError
from voice_recordings.keys import KINDS, TRANSCRIPT, VOICE, recording_key
from voice_recordings.metadata import object_metadata
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.spool.entry import (
    BODY_FILE,
    ENTRY_FILE,
    TMP_PREFIX,
    TRASH_PREFIX,
    CorruptEntryError,
    SpoolEntry,
)
from voice_recordings.spool.spool import COPY_CHUNK, Spool

WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
KEY = recording_key(5, "abc-123", WHEN)
META = object_metadata("abc-123", 5, "dom-1", "sec-1", WHEN)


def add(spool: Spool, body: Any = b"audio bytes", key: str = KEY) -> Path:
    return spool_entry(spool, key, META, body)


def test_entry_holds_body_and_json_with_checksum_and_no_settings(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    entry_dir = add(spool)

    assert (entry_dir / BODY_FILE).read_bytes() == b"audio bytes"
    raw = json.loads((entry_dir / ENTRY_FILE).read_text())
    assert raw["key"] == KEY and raw["kind"] == VOICE
    assert raw["content_type"] == KINDS[VOICE].content_type
    assert raw["metadata"] == META and raw["tags"] == KINDS[VOICE].tag
    assert raw["size"] == 11 and raw["sha256"] == hashlib.sha256(b"audio bytes").hexdigest()
    # Nothing about the endpoint or identity: an entry can be replayed anywhere, leaks nothing.
    assert not {"access_key", "secret_key", "endpoint"} & set(raw)
    assert spool.read(entry_dir).key == KEY


def test_spool_directory_and_files_are_private(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    entry_dir = add(spool)
    assert stat.S_IMODE(spool.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry_dir.stat().st_mode) == 0o700


def test_entries_are_listed_oldest_first_and_partial_writes_are_invisible(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    first = add(spool, b"1")
    second = add(spool, b"2", key=recording_key(5, "other-call", WHEN))
    writer = spool.writer()  # an entry being written when the process died
    writer.write(b"half a recording")

    assert spool.entries() == [first, second]
    assert spool.count() == 2
    assert any(p.name.startswith(TMP_PREFIX) for p in tmp_path.iterdir())
    writer.abort()
    assert not any(p.name.startswith(TMP_PREFIX) for p in tmp_path.iterdir())


def test_a_missing_spool_directory_is_an_empty_spool(tmp_path: Path) -> None:
    assert Spool(tmp_path / "never-created").entries() == []


def test_large_file_objects_are_spooled_in_chunks(tmp_path: Path) -> None:
    stream = GeneratedStream(24 * 1024 * 1024)
    entry = Spool(tmp_path).read(add(Spool(tmp_path), stream))
    assert entry.size == 24 * 1024 * 1024
    assert entry.sha256 == stream.sha.hexdigest()
    assert stream.largest_read <= COPY_CHUNK


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / BODY_FILE).write_bytes(b"audio bytez"),  # same size, other bytes
        lambda d: (d / BODY_FILE).write_bytes(b"audio"),  # truncated
        lambda d: (d / BODY_FILE).unlink(),
        lambda d: (d / ENTRY_FILE).write_text("{not json"),
        lambda d: (d / ENTRY_FILE).write_text(
            (d / ENTRY_FILE).read_text().replace("company_5/voice", "company_5/../x")
        ),
        lambda d: (d / ENTRY_FILE).write_text(
            (d / ENTRY_FILE).read_text().replace('"kind": "voice"', f'"kind": "{TRANSCRIPT}"')
        ),
    ],
    ids=["flipped", "truncated", "no-body", "bad-json", "bad-key", "kind-mismatch"],
)
def test_a_damaged_entry_is_reported_as_corrupt(tmp_path: Path, damage: Any) -> None:
    spool = Spool(tmp_path)
    entry_dir = add(spool)
    damage(entry_dir)
    with pytest.raises(CorruptEntryError):
        spool.read(entry_dir)
    assert spool.entries() == [entry_dir]  # reading never removes anything


def test_only_one_claimant_at_a_time_and_a_removed_entry_cannot_be_claimed(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    entry_dir = add(spool)
    with spool.claim(entry_dir) as first:
        with spool.claim(entry_dir) as second:  # a second replayer (own file description)
            assert first and not second
        spool.remove(entry_dir)
    with spool.claim(entry_dir) as late:
        assert not late
    assert spool.entries() == []
    assert not any(p.name.startswith(TRASH_PREFIX) for p in tmp_path.iterdir())


def test_claim_is_refused_once_the_entry_was_removed_while_waiting(tmp_path: Path) -> None:
    # A replayer listed the entry, another one replayed and removed it before the lock was taken.
    spool = Spool(tmp_path)
    entry_dir = add(spool)
    fd = os.open(entry_dir / ENTRY_FILE, os.O_RDONLY)
    try:
        spool.remove(entry_dir)
        with spool.claim(entry_dir) as claimed:
            assert not claimed
    finally:
        os.close(fd)


def test_sweep_finishes_interrupted_removals(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    entry_dir = add(spool)
    os.replace(entry_dir, tmp_path / f"{TRASH_PREFIX}{entry_dir.name}")
    spool.sweep_trash()
    assert list(tmp_path.iterdir()) == []


def test_entry_json_round_trips(tmp_path: Path) -> None:
    entry = Spool(tmp_path).read(add(Spool(tmp_path)))
    assert SpoolEntry.from_json(entry.to_json()) == entry


SETTINGS_ENV = {
    Env.ENDPOINT: "storage.example.org",
    Env.ACCESS_KEY: "uploader",
    Env.SECRET_KEY: "not-a-real-secret",
}


def test_spool_dir_defaults_to_the_per_user_state_directory(tmp_path: Path) -> None:
    settings = StorageSettings.from_env({**SETTINGS_ENV, "XDG_STATE_HOME": str(tmp_path)})
    assert settings.spool_dir == tmp_path / "voice-recordings" / "spool"
    assert not settings.spool_dir.exists()  # created on first use, not at start-up


@pytest.mark.parametrize("off", ["off", "OFF", "none", "disabled", "false"])
def test_spool_can_be_switched_off(off: str) -> None:
    assert StorageSettings.from_env({**SETTINGS_ENV, Env.SPOOL_DIR: off}).spool_dir is None


def test_spool_dir_must_be_absolute(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=Env.SPOOL_DIR):
        StorageSettings.from_env({**SETTINGS_ENV, Env.SPOOL_DIR: "relative/spool"})
    chosen = StorageSettings.from_env({**SETTINGS_ENV, Env.SPOOL_DIR: str(tmp_path)})
    assert chosen.spool_dir == tmp_path
