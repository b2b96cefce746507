"""``voice-recordings export`` is safe and complete (issue 26.5), through the CLI as the stack's
identities: links planted in ``--to`` are never followed, only fresh files are written (0600, in
a 0700 directory), one file per stored version with a manifest that matches the bytes, versions
behind a delete marker are exported, a file as ``--to`` and the reader without ``--day`` get one
line saying what to do, and the report says what was not exported and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.support import Target, deployed_target, minio_target, real_minio_configured
from voice_recordings import MinioUploader, cli
from voice_recordings.subject_requests.export import NEEDS_DAY

pytestmark = pytest.mark.integration
DAY_ONE = dt.datetime(2026, 3, 4, 23, 59, tzinfo=dt.UTC)
DAY_TWO = dt.datetime(2026, 3, 5, 0, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> Target:
    """One stack (the grants are the same in every stack): ``dev`` as deployed, or real MinIO."""
    if real_minio_configured():
        return minio_target()
    return deployed_target(request.getfixturevalue("dev_deployment"))


def _export(target: Target, who: object, tmp: Path, company: int, call: str, *extra: str) -> Any:
    out = io.StringIO()
    argv = ["export", "--company", str(company), "--call", call, *extra]
    code = cli.main(argv, target.env(who, tmp / "spool"), out)  # type: ignore[arg-type]
    return code, out.getvalue()


def _upload(target: Target, company: int, call: str, body: bytes, when: dt.datetime) -> str:
    uploader = MinioUploader(target.settings(target.uploader))
    try:
        return uploader.upload_audio(body, call_uuid=call, company_id=company, when=when).key
    finally:
        uploader.close()


def _manifest_matches(directory: Path) -> list[dict[str, object]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    for item in manifest["files"]:
        data = (directory / str(item["file"])).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item["sha256"], item
    return list(manifest["files"])


def test_one_call_under_two_dates_and_two_versions_is_one_file_each(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9201, "two-dates"
    _upload(target, company, call, b"ID3 first day", DAY_ONE)
    _upload(target, company, call, b"ID3 first day, again", DAY_ONE)
    _upload(target, company, call, b"ID3 second day", DAY_TWO)
    out_dir = tmp_path / "new" / "export"
    code, out = _export(target, target.steward, tmp_path, company, call, "--to", str(out_dir))
    assert code == cli.EXIT_OK, out
    files = _manifest_matches(out_dir)
    assert len(files) == 3 and len({f["file"] for f in files}) == 3
    written = {(out_dir / str(f["file"])).read_bytes() for f in files}
    assert written == {b"ID3 first day", b"ID3 first day, again", b"ID3 second day"}
    assert stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    for path in out_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_planted_links_are_never_followed_and_nothing_existing_is_overwritten(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9202, "planted"
    _upload(target, company, call, b"ID3 planted", DAY_ONE)
    victim = tmp_path / "victim.txt"
    victim.write_text("outside the target")
    first = tmp_path / "first"
    assert _export(target, target.steward, tmp_path, company, call, "--to", str(first))[0] == 0
    out_dir = tmp_path / "planted"
    out_dir.mkdir()
    for name in [p.name for p in first.iterdir()]:  # every name export would write, as links
        (out_dir / name).symlink_to(victim)
    code, out = _export(target, target.steward, tmp_path, company, call, "--to", str(out_dir))
    assert code == cli.EXIT_FAILED, out
    assert "NOT EXPORTED" in out and "never overwritten" in out
    assert victim.read_text() == "outside the target"
    assert all(p.is_symlink() for p in out_dir.iterdir())
    link = tmp_path / "link-to-dir"
    link.symlink_to(first, target_is_directory=True)
    code, out = _export(target, target.steward, tmp_path, company, call, "--to", str(link))
    assert code == cli.EXIT_USAGE


def test_versions_behind_a_delete_marker_are_exported_and_the_marker_reported(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9203, "deleted-by-hand"
    key = _upload(target, company, call, b"ID3 hidden", DAY_ONE)
    target.s3(target.admin).delete_object(Bucket=target.bucket, Key=key)
    out_dir = tmp_path / "out"
    code, out = _export(target, target.steward, tmp_path, company, call, "--to", str(out_dir))
    assert code == cli.EXIT_OK, out
    (item,) = _manifest_matches(out_dir)
    assert (out_dir / str(item["file"])).read_bytes() == b"ID3 hidden"
    assert "NOT EXPORTED" in out and "delete marker" in out
    about = json.loads((out_dir / f"{item['file']}.json").read_text())
    assert about["behind_delete_marker"] is True
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert [n["reason"] for n in manifest["not_exported"]] == ["a delete marker: it holds no bytes"]
    code, out = _export(
        target,
        target.reader,
        tmp_path,
        company,
        call,
        "--day",
        "2026-03-04",
        "--to",
        str(tmp_path / "reader"),
    )
    assert code == cli.EXIT_FAILED and "delete marker" in out and "nothing stored" not in out


def test_a_file_as_target_and_the_reader_without_a_day_get_one_line(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    company, call = 9204, "one-line"
    _upload(target, company, call, b"ID3", DAY_ONE)
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    code, out = _export(target, target.steward, tmp_path, company, call, "--to", str(a_file))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and "not a directory" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and a_file.read_text() == "mine"
    out_dir = tmp_path / "reader"
    code, out = _export(target, target.reader, tmp_path, company, call, "--to", str(out_dir))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and NEEDS_DAY in err, out + err
    assert "policy" not in err.split(":")[0] and not any(out_dir.iterdir())
    os.rmdir(out_dir)


def test_a_version_the_server_refuses_is_reported_not_a_traceback(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9205, "refused"
    _upload(target, company, call, b"ID3 refused", DAY_ONE)
    out_dir = tmp_path / "observer"
    code, out = _export(
        target,
        target.observer,
        tmp_path,
        company,
        call,
        "--day",
        "2026-03-04",
        "--to",
        str(out_dir),
    )
    assert code == cli.EXIT_FAILED, out
    assert out.count("NOT EXPORTED") == 2 and "the server refused it: S3 Access Denied" in out
    assert list(out_dir.iterdir()) == []


def test_export_as_json_lists_each_file_and_what_was_left_out(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9206, "exported-by-a-script"
    key = _upload(target, company, call, b"ID3 by a script", DAY_ONE)
    target.s3(target.admin).delete_object(Bucket=target.bucket, Key=key)  # a delete marker
    out_dir = tmp_path / "out"
    code, out = _export(
        target, target.steward, tmp_path, company, call, "--to", str(out_dir), "--json"
    )
    document = json.loads(out)
    assert code == cli.EXIT_OK and document["complete"] is True, out
    assert document["request"] == {"company_id": company, "call_uuid": call, "day": None}
    assert document["manifest"] == str(out_dir / "manifest.json")
    (written,) = document["files"]
    assert written["key"] == key and Path(written["path"]).read_bytes() == b"ID3 by a script"
    assert written["sha256"] == hashlib.sha256(b"ID3 by a script").hexdigest()
    (marker,) = document["not_exported"]
    assert marker["key"] == key and marker["problem"] is False and marker["fix"] is None
    assert document["counts"] == {"exported": 1, "not_exported": 1}
