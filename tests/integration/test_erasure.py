"""Data-subject requests on the stack's bucket, through the CLI and as the stack's identities:
``voice-recordings erase`` removes every version and delete marker of a call (or a company) and
nothing else, proves it, and writes the report a data-protection officer files; an erased call
never comes back from a spool; ``voice-recordings export`` hands its subject the recording.

Each identity's grants are the stack's (the steward's policy ``policies/recordings-steward.json``
as deployed); the steward is the only one that may delete.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import voice_recordings.spool.replay
import voice_recordings.subject_requests.erasure
from tests.support import ROOT, Target, deployed_target, minio_target, real_minio_configured
from voice_recordings import MinioUploader, StorageSettings, cli
from voice_recordings.keys import erasure_marker_key, object_key
from voice_recordings.settings import Env
from voice_recordings.subject_requests.erasure_report import read_report

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> Target:
    """One stack is enough here (the steward's policy is the same in every stack): ``dev`` as
    deployed, or the real MinIO. Overrides the conftest's two-stack ``target``."""
    if real_minio_configured():
        return minio_target()
    return deployed_target(request.getfixturevalue("dev_deployment"))


# The window erase waits for late writes, short here (every --yes waits it).
WINDOW = 0.5


@pytest.fixture(autouse=True)
def short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_recordings.subject_requests.erasure, "LANDING_WINDOW", WINDOW)
    monkeypatch.setattr(voice_recordings.spool.replay, "LANDING_WINDOW", WINDOW)


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(argv, env, out), out.getvalue()


def _child(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``voice-recordings <argv>`` in a process of its own, as the service or a cron runs it."""
    return subprocess.run(
        [sys.executable, "-m", "voice_recordings.cli", *argv],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _erase(company: int, call: str | None, report: Path) -> list[str]:
    """The argv of an erasure that means it (``--yes``), its report at ``report``."""
    scope = ["--call", call] if call else []
    return ["erase", "--company", str(company), *scope, "--yes", "--report", str(report)]


def _store(target: Target, company: int, call: str, body: bytes = b"ID3 audio") -> list[str]:
    uploader = MinioUploader(target.settings(target.uploader))
    keys = [
        uploader.upload_audio(body, call_uuid=call, company_id=company, when=WHEN).key,
        uploader.upload_transcript("texto", call_uuid=call, company_id=company, when=WHEN).key,
    ]
    uploader.close()
    return keys


def _versions(target: Target, prefix: str) -> list[tuple[str, str]]:
    s3 = target.s3(target.admin)
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=target.bucket, Prefix=prefix
    ):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            found.append((entry["Key"], entry["VersionId"]))
    return sorted(found)


def _journalled(report: Path, event: str) -> bool:
    """Whether the erasure report at ``report`` holds a whole line of ``event`` yet."""
    if not report.exists():
        return False
    lines = report.read_text(encoding="utf-8").splitlines(keepends=True)
    return any(line.endswith("\n") and json.loads(line)["event"] == event for line in lines)


def _history(target: Target, key: str) -> None:
    """A second version and a delete marker, as a re-upload and a deletion by hand leave."""
    s3 = target.s3(target.admin)
    s3.put_object(Bucket=target.bucket, Key=key, Body=b"ID3 second version")
    s3.delete_object(Bucket=target.bucket, Key=key)


def test_the_steward_may_read_versions_and_delete_and_nothing_else(
    target: Target, other_bucket: str
) -> None:
    company, call = 9101, "steward-grants"
    key = _store(target, company, call)[0]
    steward = target.s3(target.steward)
    versions = steward.list_object_versions(Bucket=target.bucket, Prefix=f"company_{company}/")
    version = next(v["VersionId"] for v in versions["Versions"] if v["Key"] == key)
    assert steward.get_object(Bucket=target.bucket, Key=key, VersionId=version)["Body"].read()
    steward.get_object_tagging(Bucket=target.bucket, Key=key)
    denied: dict[str, Callable[[], object]] = {
        "put a recording": lambda: steward.put_object(Bucket=target.bucket, Key=key, Body=b"x"),
        "suspend versioning": lambda: steward.put_bucket_versioning(
            Bucket=target.bucket, VersioningConfiguration={"Status": "Suspended"}
        ),
        "drop the lifecycle": lambda: steward.delete_bucket_lifecycle(Bucket=target.bucket),
        "set a bucket policy": lambda: steward.put_bucket_policy(
            Bucket=target.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": []})
        ),
        "read another bucket": lambda: steward.list_objects_v2(Bucket=other_bucket),
    }
    for what, call_it in denied.items():
        with pytest.raises(ClientError) as refused:
            call_it()
        assert refused.value.response["Error"]["Code"] == "AccessDenied", what
    steward.delete_object(Bucket=target.bucket, Key=key, VersionId=version)
    for creds in (target.uploader, target.observer):
        with pytest.raises(ClientError) as refused:
            target.s3(creds).delete_object(Bucket=target.bucket, Key=key)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_erasing_a_call_removes_every_version_and_marker_of_it_and_nothing_else(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9102, "erase-me"
    mine = _store(target, company, call)
    _history(target, mine[0])
    kept = _store(target, company, "keep-me")  # another call of the company
    neighbour = _store(target, company * 10, call)  # company_91020 starts like company_9102
    stray = f"company_{company}/voice/2026/3/4/{call}.mp3"  # outside the layout: never touched
    target.s3(target.admin).put_object(Bucket=target.bucket, Key=stray, Body=b"stray")
    env = target.env(target.steward, tmp_path / "spool")

    code, out = _run(["erase", "--company", str(company), "--call", call], env)
    assert code == 0 and "dry run: nothing removed" in out
    assert len([k for k, _ in _versions(target, f"company_{company}/") if k in mine]) == 4

    report_path = tmp_path / "report.json"
    code, out = _run(_erase(company, call, report_path), env)
    assert code == 0, out
    left = _versions(target, f"company_{company}/")
    assert not [k for k, _ in left if k in mine], "a version of the erased call is left"
    assert {k for k, _ in left} == {*kept, stray}
    assert {k for k, _ in _versions(target, f"company_{company * 10}/")} == set(neighbour)
    assert f"LEFT    {stray}" in out

    report: dict[str, Any] = read_report(report_path)
    assert report["request"] == {
        "company_id": company,
        "call_uuid": call,
        "scope": report["request"]["scope"],
    }
    assert report["identity"] == target.steward.access_key
    assert report["final_check"]["nothing_remains"] is True
    removed = {(r["key"], r["delete_marker"]) for r in report["removed"]}
    assert removed == {(mine[0], False), (mine[0], True), (mine[1], False)}
    assert all(r["last_modified"] and "size" in r for r in report["removed"])
    text = report_path.read_text()
    assert target.steward.secret_key not in text and "ID3" not in text


def test_erasing_a_whole_company_leaves_its_neighbours(target: Target, tmp_path: Path) -> None:
    company = 9103
    calls = [_store(target, company, f"call-{n}") for n in range(3)]
    neighbour = _store(target, company * 10 + 1, "call-0")
    env = target.env(target.steward, tmp_path / "spool")
    code, out = _run(_erase(company, None, tmp_path / "r.json"), env)
    assert code == 0, out
    assert _versions(target, f"company_{company}/") == []
    assert {k for k, _ in _versions(target, f"company_{company * 10 + 1}/")} == set(neighbour)
    assert sum(len(c) for c in calls) == len(read_report(tmp_path / "r.json")["removed"])


def test_an_erasure_killed_midway_finishes_when_run_again(target: Target, tmp_path: Path) -> None:
    company, call = 9104, "many-versions"
    key = object_key("voice", company, call, WHEN)
    s3 = target.s3(target.admin)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:  # more than a page and a batch
        list(
            pool.map(
                lambda n: s3.put_object(Bucket=target.bucket, Key=key, Body=b"v%d" % n), range(1001)
            )
        )
    env = {**os.environ, **target.env(target.steward, tmp_path / "spool"), "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable,
        "-m",
        "voice_recordings.cli",
        *_erase(company, call, tmp_path / "first.json"),
    ]
    child = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # kill -9 once deleting has begun: the report journals each batch before its request (reading
    # it is cheap; listing a thousand versions every poll would slow the erasure it watches).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if _journalled(tmp_path / "first.json", "removing"):
            child.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    assert child.wait(timeout=60) == -signal.SIGKILL, "the erasure ended before it was killed"
    code, out = _run(
        _erase(company, call, tmp_path / "second.json"),
        target.env(target.steward, tmp_path / "spool"),
    )
    assert code == 0, out
    assert _versions(target, key) == []


def test_an_erased_call_still_in_a_spool_never_comes_back(target: Target, tmp_path: Path) -> None:
    company, call = 9105, "spooled-then-erased"
    spool = tmp_path / "spool"
    audio = tmp_path / "call.mp3"
    audio.write_bytes(b"ID3 spooled audio")
    down = target.env(target.uploader, spool, **{Env.ENDPOINT: "127.0.0.1:9"})
    # The Voice AI, with the storage down: the recording waits in its spool (another process).
    spooled = _child(["upload", str(audio), "--company", str(company), "--call", call], down)
    assert spooled.returncode == cli.EXIT_SPOOLED, spooled.stderr
    code, out = _run(
        _erase(company, call, tmp_path / "r.json"), target.env(target.steward, tmp_path / "other")
    )
    assert code == 0, out
    assert target.s3(target.admin).head_object(
        Bucket=target.bucket, Key=erasure_marker_key(company, call)
    )
    replay = _child(["replay"], target.env(target.uploader, spool))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "erased 1 (dropped)" in replay.stdout and "ERASED" in replay.stdout
    assert _versions(target, f"company_{company}/") == [], "the erased recording came back"
    assert list(spool.iterdir()) == [] or not any(
        p.name.startswith("entry") for p in spool.iterdir()
    )


def test_a_recording_made_after_the_erasure_is_replayed(target: Target, tmp_path: Path) -> None:
    company = 9106
    erase = _erase(company, None, tmp_path / "r.json")
    code, out = _run(erase, target.env(target.steward, tmp_path / "s1"))
    assert code == 0, out
    time.sleep(1.1)  # the marker's time has whole seconds; this call is made after it
    spool = tmp_path / "spool"
    down = StorageSettings.from_env(
        target.env(target.uploader, spool, **{Env.ENDPOINT: "127.0.0.1:9"})
    )
    uploader = MinioUploader(down)
    later = uploader.upload_audio(b"ID3 a new call", call_uuid="after-erasure", company_id=company)
    uploader.close()
    assert later.spooled
    code, out = _run(["replay"], target.env(target.uploader, spool))
    assert code == 0 and "uploaded 1" in out, out
    assert [k for k, _ in _versions(target, f"company_{company}/")] == [later.key]


def test_export_hands_the_subject_its_recording_with_metadata(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9107, "export-me"
    keys = _store(target, company, call, body=b"ID3 exported audio")
    for who, extra in ((target.steward, []), (target.reader, ["--day", WHEN.date().isoformat()])):
        out_dir = tmp_path / who.access_key
        code, out = _run(
            ["export", "--company", str(company), "--call", call, "--to", str(out_dir), *extra],
            target.env(who, tmp_path / "spool"),
        )
        assert code == 0, out
        manifest = json.loads((out_dir / "manifest.json").read_text())
        assert sorted(f["key"] for f in manifest["files"]) == sorted(keys)
        for item in manifest["files"]:
            data = (out_dir / item["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == item["sha256"]
            about = json.loads((out_dir / f"{item['file']}.json").read_text())
            assert about["metadata"]["call-uuid"] == call and about["content_type"]


def _spool_while_down(target: Target, spool: Path, company: int, call: str, body: bytes) -> Any:
    down = StorageSettings.from_env(
        target.env(target.uploader, spool, **{Env.ENDPOINT: "127.0.0.1:9"})
    )
    uploader = MinioUploader(down)
    result = uploader.upload_transcript(body, call_uuid=call, company_id=company, when=WHEN)
    uploader.close()
    assert result.spooled
    return result


def test_a_second_erasure_decides_again_so_what_was_spooled_between_never_comes_back(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9110, "erased-twice"
    steward = target.env(target.steward, tmp_path / "s")
    assert _run(_erase(company, None, tmp_path / "r.jsonl"), steward)[0] == 0
    time.sleep(1.1)  # whole seconds: made after the first erasure
    spool = tmp_path / "spool"
    _spool_while_down(target, spool, company, call, b"between the erasures")
    time.sleep(1.1)
    code, out = _run(_erase(company, None, tmp_path / "r.jsonl"), steward)
    assert code == 0, out
    code, out = _run(["replay"], target.env(target.uploader, spool))
    assert "erased 1 (dropped)" in out, out
    assert _versions(target, f"company_{company}/") == []
    assert read_report(tmp_path / "r.jsonl")["runs"] == 2  # one record, appended


def test_what_lands_during_the_erasure_is_removed_and_reported(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    company, call = 9111, "late-landing"
    _store(target, company, call)
    monkeypatch.setattr(voice_recordings.subject_requests.erasure, "LANDING_WINDOW", 2.0)
    uploader = MinioUploader(target.settings(target.uploader))
    marker = erasure_marker_key(company, None)
    admin = target.s3(target.admin)

    def land_late() -> None:  # a replay's PUT that was on the wire when the marker came
        for _ in range(100):
            with contextlib.suppress(ClientError):
                admin.head_object(Bucket=target.bucket, Key=marker)
                break
            time.sleep(0.02)
        time.sleep(0.3)
        uploader.upload_audio(b"ID3 late", call_uuid="late", company_id=company, when=WHEN)

    racer = threading.Thread(target=land_late)
    racer.start()
    code, out = _run(
        _erase(company, None, tmp_path / "r.jsonl"), target.env(target.steward, tmp_path / "s")
    )
    racer.join()
    uploader.close()
    assert code == 0 and "LATE" in out, out
    assert _versions(target, f"company_{company}/") == []
    report = read_report(tmp_path / "r.jsonl")
    assert [v["key"] for v in report["landed_after"]] == [
        object_key("voice", company, "late", WHEN)
    ]
    assert report["final_check"]["nothing_remains"] is True


def test_only_the_steward_can_write_erasure_markers(target: Target) -> None:
    marker = erasure_marker_key(9112, None)
    body = json.dumps({"company_id": 9112, "call_uuid": None, "erased_at": "2999-01-01T00:00:00Z"})
    for creds in (target.uploader, target.reader):
        with pytest.raises(ClientError) as refused:
            target.s3(creds).put_object(Bucket=target.bucket, Key=marker, Body=body.encode())
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    target.s3(target.steward).put_object(Bucket=target.bucket, Key=marker, Body=body.encode())
    # The uploader reads markers (replay obeys them).
    assert target.s3(target.uploader).get_object(Bucket=target.bucket, Key=marker)["Body"].read()
    target.s3(target.admin).delete_object(Bucket=target.bucket, Key=marker)


def test_a_marker_erase_did_not_write_neither_blocks_erasure_nor_sends_anyone_to_the_endpoint(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9113, "foreign-marker"
    target.s3(target.admin).put_object(
        Bucket=target.bucket, Key=erasure_marker_key(company, call), Body=b"<html>hand-made"
    )
    spool = tmp_path / "spool"
    _spool_while_down(target, spool, company, call, b"waiting")
    code, out = _run(["replay"], target.env(target.uploader, spool))
    assert code == 1 and "was not written by `voice-recordings erase`" in out, out
    assert "MINIO_ENDPOINT" not in out
    code, out = _run(
        _erase(company, call, tmp_path / "r.jsonl"), target.env(target.steward, tmp_path / "s")
    )
    assert code == 0, out
    code, out = _run(["replay"], target.env(target.uploader, spool))
    assert code == 0 and "erased 1 (dropped)" in out, out


def test_the_report_is_appended_to_never_overwritten_and_a_bad_path_is_refused_first(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9114, "reported"
    keys = _store(target, company, call)
    steward = target.env(target.steward, tmp_path / "s")
    for bad in (tmp_path / "missing-dir" / "r.jsonl", tmp_path):
        code, out = _run(_erase(company, call, bad), steward)
        assert code == cli.EXIT_USAGE, out
    assert len(_versions(target, f"company_{company}/")) == len(keys)  # nothing was erased
    other = tmp_path / "other.jsonl"
    assert _run(_erase(company, "another-call", other), steward)[0] == 0
    assert _run(_erase(company, call, other), steward)[0] == cli.EXIT_USAGE  # not its record
    path = tmp_path / "r.jsonl"
    assert _run(_erase(company, call, path), steward)[0] == 0
    assert _run(_erase(company, call, path), steward)[0] == 0
    report = read_report(path)
    assert report["runs"] == 2 and sorted(v["key"] for v in report["removed"]) == sorted(keys)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_ctrl_c_during_an_erasure_is_one_line_and_the_report_keeps_what_was_removed(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9115, "interrupted"
    keys = _store(target, company, call)
    path = tmp_path / "r.jsonl"
    env = {**os.environ, **target.env(target.steward, tmp_path / "s"), "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "voice_recordings.cli", *_erase(company, call, path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"event": "removed"' not in (
        path.read_text() if path.exists() else ""
    ):
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)  # during the landing window's wait (30 s in a child)
    _, err = child.communicate(timeout=60)
    assert child.returncode == cli.EXIT_INTERRUPTED
    assert err.strip().count("\n") == 0 and "Traceback" not in err and str(path) in err, err
    report = read_report(path)
    assert sorted(v["key"] for v in report["removed"]) == sorted(keys)
    assert report["interrupted_at"]
    assert _run(_erase(company, call, path), target.env(target.steward, tmp_path / "s"))[0] == 0
    assert read_report(path)["runs"] == 2


def test_replay_never_puts_an_older_spooled_copy_over_a_newer_object(
    target: Target, tmp_path: Path
) -> None:
    company, call = 9116, "newer-stored"
    spool = tmp_path / "spool"
    older = _spool_while_down(target, spool, company, call, b"older transcript")
    time.sleep(1.1)
    uploader = MinioUploader(target.settings(target.uploader))
    uploader.upload_transcript("newer transcript", call_uuid=call, company_id=company, when=WHEN)
    uploader.close()
    code, out = _run(["replay"], target.env(target.uploader, spool))
    assert code == 1 and "newer" in out, out
    body = target.s3(target.admin).get_object(Bucket=target.bucket, Key=older.key)["Body"].read()
    assert body == b"newer transcript"
    assert len(_versions(target, older.key)) == 1  # the older copy did not become a version
    assert any(spool.iterdir())  # and is not lost: it waits in the spool


def test_erase_as_json_is_the_report_with_its_counts(target: Target, tmp_path: Path) -> None:
    """For a script: the dry run's document lists what would go; the erasure's is the report
    it filed, with the counts, and stdout holds nothing else."""
    company, call = 9117, "erased-by-a-script"
    keys = _store(target, company, call)
    env = target.env(target.steward, tmp_path / "spool")

    code, out = _run(["erase", "--company", str(company), "--call", call, "--json"], env)
    dry = json.loads(out)
    assert code == cli.EXIT_OK and dry["dry_run"] is True and dry["report_file"] is None
    assert sorted(v["key"] for v in dry["final_check"]["remaining"]) == sorted(keys)
    assert dry["counts"] == {
        "removed": 0,
        "failed": 0,
        "left_alone": 0,
        "landed_after": 0,
        "remaining": 2,
    }

    report_path = tmp_path / "report.jsonl"
    code, out = _run([*_erase(company, call, report_path), "--json"], env)
    done = json.loads(out)
    assert code == cli.EXIT_OK and done["ok"] is True and done["error"] is None
    assert done["report_file"] == str(report_path)
    assert done["counts"]["removed"] == 2 and done["counts"]["remaining"] == 0
    assert done["final_check"]["nothing_remains"] is True
    filed = read_report(report_path)  # the record the officer files says the same
    assert done["request"] == filed["request"]

    def removed(report: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((v["key"], v["version_id"]) for v in report["removed"])

    assert removed(done) == removed(filed) and len(removed(done)) == 2
    assert target.steward.secret_key not in out
