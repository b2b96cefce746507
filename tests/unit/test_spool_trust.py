"""The spool trusts only what it owns and what agrees with itself (issue 19.4).

Another user's directory (whatever its mode, or a link to one), a link another user made,
parents created under a loose umask, an entry another user left, a spool that is a file or
cannot be written, an entry whose key and metadata disagree: each is refused or reported in one
line, never followed, never blocks the other entries, never a traceback.

Ownership is real: the tests run as root and hand things to :data:`OTHER_UID` with ``chown``;
where root's bypass of permission bits would hide the bug, a child runs as that user.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.endpoint.embedded_s3 import EmbeddedS3
from tests.spool_owners import OTHER_UID, WHEN, add, chown_tree, replay_cli, shared_dir
from tests.support import offline_uploader, spool_entry
from voice_recordings import MinioUploader, cli
from voice_recordings.errors import StorageError
from voice_recordings.keys import recording_key
from voice_recordings.metadata import object_metadata
from voice_recordings.spool.entry import TRASH_PREFIX
from voice_recordings.spool.spool import Spool
from voice_recordings.spool.spool_directory import SpoolDirectoryError


@pytest.mark.parametrize("mode", [0o700, 0o755, 0o750, 0o777])
@pytest.mark.parametrize("via_link", [False, True])
def test_a_spool_directory_another_user_owns_is_refused(
    tmp_path: Path, mode: int, via_link: bool
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, OTHER_UID, OTHER_UID)
    theirs.chmod(mode)
    spool_dir = tmp_path / "spool" if via_link else theirs
    if via_link:
        spool_dir.symlink_to(theirs)
    with pytest.raises(SpoolDirectoryError, match=f"owned by uid {OTHER_UID}"):
        Spool(spool_dir).writer()
    with pytest.raises(StorageError, match=r"the spool at .* also failed"):
        offline_uploader(spool_dir).upload_audio(b"a", call_uuid="c", company_id=5, when=WHEN)
    code, out, err = replay_cli(spool_dir)
    assert code == cli.EXIT_FAILED and out.startswith("FAIL replay: ") and "Traceback" not in err
    assert os.listdir(theirs) == [] and stat.S_IMODE(theirs.stat().st_mode) == mode


def test_a_link_another_user_made_is_refused_even_to_a_directory_of_ours(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o700)
    link = tmp_path / "spool"
    link.symlink_to(ours)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(SpoolDirectoryError, match=f"link made by uid {OTHER_UID}"):
        Spool(link).ensure_directory()


@settings(max_examples=20, deadline=None)
@given(
    umask=st.sampled_from([0o000, 0o002, 0o007, 0o022, 0o027, 0o077]),
    depth=st.integers(min_value=1, max_value=4),
)
def test_missing_parents_are_created_0700_under_any_umask(umask: int, depth: int) -> None:
    with tempfile.TemporaryDirectory() as top:
        spool_dir = Path(top).joinpath(*[f"level{n}" for n in range(depth)], "spool")
        previous = os.umask(umask)
        try:
            result = offline_uploader(spool_dir).upload_audio(
                b"audio", call_uuid="c", company_id=5, when=WHEN
            )
        finally:
            os.umask(previous)
        assert result.spooled
        created = [spool_dir, *spool_dir.parents][: depth + 1]
        assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in created} == {oct(0o700)}


@pytest.mark.parametrize("whose", ["entry", "entry.json", "body"])
def test_an_entry_another_user_owns_is_reported_and_the_others_still_go(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path, whose: str
) -> None:
    spool = Spool(tmp_path / "spool")
    first, theirs, last = add(spool, call="one"), add(spool, call="two"), add(spool, call="three")
    if whose == "entry":
        chown_tree(theirs, OTHER_UID)
    else:
        os.chown(theirs / whose, OTHER_UID, OTHER_UID)
    uploader = MinioUploader(embedded_s3.settings(bucket=bucket, spool_dir=spool.directory))
    report = uploader.replay_spool()
    assert [name for name, _ in report.foreign] == [theirs.name]
    assert "not this user" in report.foreign[0][1]
    assert report.uploaded == [recording_key(5, call, WHEN) for call in ("one", "three")]
    assert not first.exists() and not last.exists()
    assert theirs.is_dir() and report.remaining == 1  # kept, untouched


def test_an_entry_another_user_left_does_not_stop_a_replayer_that_cannot_open_it() -> None:
    with shared_dir() as top:
        spool_dir = top / "spool"
        rooted = add(Spool(spool_dir), call="root-left")  # root's, mode 0700: unreadable to them
        os.chown(spool_dir, OTHER_UID, OTHER_UID)  # the spool is theirs, that entry is not
        code, out, err = replay_cli(spool_dir, as_other_user=True)
    assert "Traceback" not in err and "PermissionError" not in err, err
    assert code == cli.EXIT_FAILED
    assert f"FOREIGN {rooted.name}: " in out and "remaining 1" in out


@pytest.mark.parametrize("shape", ["file", "under-a-file"])
def test_a_spool_that_is_a_file_fails_replay_in_one_line(tmp_path: Path, shape: str) -> None:
    (tmp_path / "file").write_text("not a directory")
    spool_dir = tmp_path / "file" if shape == "file" else tmp_path / "file" / "spool"
    code, out, err = replay_cli(spool_dir)
    assert code == cli.EXIT_FAILED and "Traceback" not in err
    assert out.startswith("FAIL replay: ") and len(out.strip().splitlines()) == 1
    assert "MINIO_SPOOL_DIR" in out  # the fix


def test_a_spool_only_readable_fails_in_one_line_for_a_user_who_cannot_write_it() -> None:
    with shared_dir() as top:
        spool_dir = top / "spool"
        spool_dir.mkdir()
        add(Spool(spool_dir))
        (spool_dir / f"{TRASH_PREFIX}left").symlink_to("/nonexistent")  # a removal to finish
        chown_tree(spool_dir, OTHER_UID)
        spool_dir.chmod(0o500)  # as a read-only remount looks to its owner
        code, out, err = replay_cli(spool_dir, as_other_user=True)
    assert "Traceback" not in err, err
    assert code == cli.EXIT_FAILED and "remaining 1" in out


def test_a_spool_that_cannot_remove_a_verified_entry_reports_it_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path / "spool")
    entries = [add(spool, call=f"call-{n}") for n in range(3)]
    uploader = offline_uploader(spool.directory)
    monkeypatch.setattr("voice_recordings.spool.replay.store_entry", lambda *_: True)  # all stored
    monkeypatch.setattr("voice_recordings.spool.replay.erasure_of", lambda *_: None)  # none erased

    def read_only(*_: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    report = uploader.replay_spool()
    assert [reason for _, reason in report.failed] == [
        "stored and verified, but the entry could not be removed (Read-only file system): "
        "make the spool writable"
    ] * 3
    assert all(entry.is_dir() for entry in entries) and report.remaining == 3


@settings(max_examples=30, deadline=None)
@given(
    key_company=st.integers(min_value=1, max_value=10**6),
    meta_company=st.integers(min_value=1, max_value=10**6),
    key_call=st.sampled_from(["call-a", "call-b"]),
    meta_call=st.sampled_from(["call-a", "call-b"]),
)
def test_an_entry_whose_key_and_metadata_disagree_is_never_uploaded(
    key_company: int, meta_company: int, key_call: str, meta_call: str
) -> None:
    with tempfile.TemporaryDirectory() as top:
        spool = Spool(Path(top) / "spool")
        meta = object_metadata(meta_call, meta_company, uploaded_at=WHEN)
        key = recording_key(key_company, key_call, WHEN)
        entry = spool_entry(spool, key, meta, io.BytesIO(b"x"), reason="r", bucket="b")
        report = offline_uploader(spool.directory).replay_spool()
        if (key_company, key_call) == (meta_company, meta_call):
            # Consistent: it is sent (the offline server stops the run).
            assert report.corrupt == [] and report.stopped is not None
        else:
            # Inconsistent: reported, kept, and no request made (nothing was "stopped").
            assert [name for name, _ in report.corrupt] == [entry.name]
            assert "the metadata says" in report.corrupt[0][1] and report.stopped is None
            assert entry.is_dir()


@pytest.mark.parametrize("shape", ["world-writable", "another-users"])
def test_a_spool_whose_parent_another_user_can_change_is_refused(
    tmp_path: Path, shape: str
) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    if shape == "world-writable":
        parent.chmod(0o777)  # no sticky bit: anyone may rename the spool away and plant another
    else:
        os.chown(parent, OTHER_UID, OTHER_UID)
    spool_dir = parent / "spool"
    with pytest.raises(SpoolDirectoryError, match=f"its parent {parent} is"):
        Spool(spool_dir).ensure_directory()
    code, out, err = replay_cli(spool_dir)
    assert code == cli.EXIT_FAILED and out.startswith("FAIL replay: ") and "Traceback" not in err


def test_a_sticky_world_writable_parent_like_tmp_is_accepted(tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o1777)
    Spool(parent / "spool").ensure_directory()
    assert stat.S_IMODE((parent / "spool").stat().st_mode) == 0o700


@pytest.mark.parametrize("extra", [{"x-evil": "1"}, {"content-type": "text/html"}])
def test_an_entry_with_metadata_the_uploader_never_writes_is_never_uploaded(
    tmp_path: Path, extra: dict[str, str]
) -> None:
    spool = Spool(tmp_path / "spool")
    meta = {**object_metadata("c", 5, uploaded_at=WHEN), **extra}
    entry = spool_entry(spool, recording_key(5, "c", WHEN), meta, b"x", reason="r", bucket="b")
    report = offline_uploader(spool.directory).replay_spool()
    assert [name for name, _ in report.corrupt] == [entry.name] and report.stopped is None
