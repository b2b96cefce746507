"""``voice-recordings`` against a live endpoint: the stack's own uploader identity, provisioned
from the render (see conftest.py), a wrong secret, a stopped server."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.endpoint.embedded_s3 import Credentials
from tests.support import Target, disk_tree
from voice_recordings import MinioUploader, cli
from voice_recordings.cli import checks
from voice_recordings.diagnostics import FIX_CREDENTIALS, FIX_UNREACHABLE
from voice_recordings.settings import Env
from voice_recordings.urls import FIX_MISSING_OBJECT

pytestmark = pytest.mark.integration
CHECKS = ("dns", "tcp", "tls", "health", "credentials", "bucket", "put", "get")
CHECKS_TOO = ("presigned-url", "delete-denied", "spool")


def env_for(target: Target, creds: Credentials, spool: Path, **extra: str) -> dict[str, str]:
    return target.env(creds, spool, **extra)


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(argv, env, out)
    return code, out.getvalue()


def statuses(output: str) -> dict[str, str]:
    """check name -> OK/WARN/FAIL/SKIP, from the one line per check."""
    return {line.split()[1]: line.split()[0] for line in output.splitlines() if line.strip()}


def dead_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_check_passes_as_the_stack_uploader(target: Target, tmp_path: Path) -> None:
    code, output = run(["check"], env_for(target, target.uploader, tmp_path / "spool"))

    found = statuses(output)
    assert code == cli.EXIT_OK, output
    assert set(CHECKS + CHECKS_TOO) <= set(found)
    assert not [name for name, status in found.items() if status == "FAIL"]
    for name in ("dns", "tcp", "credentials", "bucket", "put", "get", "presigned-url"):
        assert found[name] == "OK", output
    assert found["delete-denied"] == "OK"  # least privilege: the uploader cannot delete
    if target.use_ssl:  # the embedded endpoint serves TLS, as production does
        assert found["tls"] == "OK" and "certificate trusted" in output
    if target.embedded:  # moto has no /minio/health/live: said, not hidden
        assert found["health"] == "WARN" and "not a MinIO server" in output
    assert target.uploader.secret_key not in output


def test_check_fails_with_the_fix_for_a_wrong_secret(target: Target, tmp_path: Path) -> None:
    wrong = Credentials(target.uploader.access_key, "wrong-secret-9c1e5b7d")
    code, output = run(["check"], env_for(target, wrong, tmp_path / "spool"))

    assert code == cli.EXIT_FAILED
    line = next(line for line in output.splitlines() if line.startswith("FAIL credentials"))
    assert FIX_CREDENTIALS in line
    assert statuses(output)["put"] == "SKIP"
    assert "wrong-secret-9c1e5b7d" not in output


def test_check_fails_with_the_fix_for_a_stopped_server(target: Target, tmp_path: Path) -> None:
    env = env_for(target, target.uploader, tmp_path / "spool", **{Env.ENDPOINT: dead_endpoint()})
    env[Env.USE_SSL] = "false"
    code, output = run(["check"], env)

    assert code == cli.EXIT_FAILED
    line = next(line for line in output.splitlines() if line.startswith("FAIL tcp"))
    assert FIX_UNREACHABLE in line
    assert statuses(output)["spool"] == "OK"  # recordings are safe meanwhile


def test_check_flags_an_identity_that_may_delete(target: Target, tmp_path: Path) -> None:
    code, output = run(["check"], env_for(target, target.admin, tmp_path / "spool"))
    assert code == cli.EXIT_FAILED
    assert statuses(output)["delete-denied"] == "FAIL" and checks.FIX_CAN_DELETE in output


def test_the_installed_console_script(target: Target, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("voice-recordings")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "voice_recordings.cli"]
    env = {**os.environ, **env_for(target, target.uploader, tmp_path / "spool")}
    done = subprocess.run(
        [*command, "check"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK   delete-denied" in done.stdout


def test_upload_spools_when_down_and_replay_delivers(
    target: Target, tmp_path: Path, call_uuid: str, company_id: int
) -> None:
    spool = tmp_path / "spool"
    recording = tmp_path / "call.mp3"
    recording.write_bytes(os.urandom(3 * 1024 * 1024))
    down = env_for(target, target.uploader, spool, **{Env.ENDPOINT: dead_endpoint()})
    down[Env.USE_SSL] = "false"
    argv = ["upload", str(recording), "--company", str(company_id), "--call", call_uuid]

    code, url = run(argv, down)
    assert code == cli.EXIT_SPOOLED and f"company_{company_id}/voice/" in url

    code, summary = run(["replay"], env_for(target, target.uploader, spool))
    assert code == cli.EXIT_OK and "uploaded 1," in summary and "remaining 0" in summary
    key = url.split("/", 4)[4].split("?")[0].removeprefix(f"{target.bucket}/")
    body = target.s3(target.uploader).get_object(Bucket=target.bucket, Key=key)["Body"].read()
    assert body == recording.read_bytes()

    code, again = run(argv, env_for(target, target.uploader, spool))
    assert code == cli.EXIT_OK and again.strip().startswith("http")


def test_check_as_json_writes_nothing_locally(
    target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every step runs (the probe is written to the server, read back, played), and the local
    disk is as it was: the default spool under HOME not made, the working directory untouched."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    env = env_for(target, target.uploader, tmp_path / "unused", HOME=str(home))
    del env[Env.SPOOL_DIR]  # the default: $HOME/.local/state/voice-recordings/spool
    before = disk_tree(tmp_path)
    code, output = run(["check", "--json"], env)

    document = json.loads(output)
    assert code == cli.EXIT_OK and document["ok"] is True and document["error"] is None
    found = {c["name"]: c["status"] for c in document["checks"]}
    assert found["put"] == found["get"] == found["delete-denied"] == "OK", document
    assert found["spool"] == "OK" and "does not exist yet" in document["checks"][-1]["detail"]
    assert document["counts"]["FAIL"] == 0
    assert "OK   delete-denied" in capsys.readouterr().err  # the lines, on stderr
    assert disk_tree(tmp_path) == before


def test_url_of_a_stored_key_and_of_one_that_is_not(
    target: Target,
    tmp_path: Path,
    call_uuid: str,
    company_id: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uploader = MinioUploader(target.settings(target.uploader))
    try:
        stored = uploader.upload_audio(b"ID3 audio", call_uuid=call_uuid, company_id=company_id)
    finally:
        uploader.close()
    missing = stored.key.replace(call_uuid, f"{call_uuid}-never-uploaded")
    for who in (target.uploader, target.reader):
        env = env_for(target, who, tmp_path / "spool")
        code, url = run(["url", stored.key], env)
        assert code == cli.EXIT_OK and f"/{target.bucket}/{stored.key}?" in url
        assert capsys.readouterr().err == ""

        code, url = run(["url", missing], env)
        err = capsys.readouterr().err
        assert code == cli.EXIT_FAILED and url == "", err
        assert err.startswith("FAIL url: ") and missing in err and err.count("\n") == 1
    # The uploader may list the bucket: S3 tells it the key is not there, with the fix.
    run(["url", missing], env_for(target, target.uploader, tmp_path / "spool"))
    err = capsys.readouterr().err
    assert f"no object {missing} in bucket {target.bucket}" in err and FIX_MISSING_OBJECT in err


def test_replay_as_json_lists_each_entry_and_the_counts(
    target: Target, tmp_path: Path, call_uuid: str, company_id: int
) -> None:
    spool = tmp_path / "spool"
    recording = tmp_path / "call.mp3"
    recording.write_bytes(b"ID3 " + os.urandom(2048))
    down = env_for(target, target.uploader, spool, **{Env.ENDPOINT: dead_endpoint()})
    down[Env.USE_SSL] = "false"
    argv = ["upload", str(recording), "--company", str(company_id), "--call", call_uuid]
    assert run(argv, down)[0] == cli.EXIT_SPOOLED

    code, output = run(["replay", "--json"], env_for(target, target.uploader, spool))
    document = json.loads(output)
    assert code == cli.EXIT_OK and document["result"] == "ok" and document["waiting"] == 1
    (entry,) = document["entries"]
    assert entry["outcome"] == "uploaded" and entry["key"].endswith(f"/{call_uuid}.mp3")
    assert document["counts"]["uploaded"] == 1 and document["counts"]["remaining"] == 0
