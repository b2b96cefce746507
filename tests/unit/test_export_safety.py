"""``export`` under a loose umask and cut off midway (issue 26.5 and 26.9).

Every directory export makes (``--to`` and each missing parent) is 0700 under any umask, and a
directory that existed keeps its mode. An export stopped by Ctrl-C or a failure part way leaves
a manifest that lists exactly the files there and says the export did not finish; a rerun into
a fresh directory is complete; Ctrl-C in the CLI is one line and exit 130.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from botocore.exceptions import EndpointConnectionError

from devtools.endpoint.embedded_s3 import EmbeddedS3
from tests.support import ROOT
from voice_recordings import MinioUploader, cli
from voice_recordings.cli import export as export_command
from voice_recordings.private_dirs import PRIVATE_MODE
from voice_recordings.settings import Env
from voice_recordings.subject_requests.export import export_call
from voice_recordings.subject_requests.export_manifest import (
    FILE_MODE,
    MANIFEST,
    STATUS_COMPLETE,
    STATUS_FAILED,
    STATUS_INTERRUPTED,
)

COMPANY: Final = 5
CALL: Final = "export-safety"
DAYS: Final = [dt.datetime(2026, 1, day, 12, tzinfo=dt.UTC) for day in (14, 15, 16)]


@pytest.fixture
def stored(embedded_s3: EmbeddedS3, bucket: str) -> Iterator[MinioUploader]:
    """The call's recording stored under three dates (three objects to export)."""
    uploader = MinioUploader(embedded_s3.settings(bucket=bucket, spool_dir=None))
    for when in DAYS:
        uploader.upload_audio(
            b"ID3 " + when.isoformat().encode(), call_uuid=CALL, company_id=COMPANY, when=when
        )
    yield uploader
    uploader.close()


def _export_cli(embedded_s3: EmbeddedS3, bucket: str, to: Path) -> tuple[int, str]:
    env = {**embedded_s3.env(bucket=bucket), Env.SPOOL_DIR: "off"}
    out = io.StringIO()
    code = cli.main(
        ["export", "--company", str(COMPANY), "--call", CALL, "--to", str(to)], env, out
    )
    return code, out.getvalue()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _manifest_matches_the_files(directory: Path) -> dict[str, Any]:
    """The manifest, once it lists exactly the files there (each with its .json) and their
    digests."""
    manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    listed = {item["file"] for item in manifest["files"]}
    present = {p.name for p in directory.iterdir()} - {MANIFEST}
    assert present == listed | {f"{name}.json" for name in listed}, (present, manifest)
    for item in manifest["files"]:
        assert hashlib.sha256((directory / item["file"]).read_bytes()).hexdigest() == item["sha256"]
    return manifest


@pytest.mark.parametrize("umask", [0o000, 0o002, 0o022, 0o027, 0o077, 0o277])
def test_every_directory_export_makes_is_0700_and_an_existing_one_keeps_its_mode(
    embedded_s3: EmbeddedS3, bucket: str, stored: MinioUploader, tmp_path: Path, umask: int
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    to = shared / "requests" / "2026" / "out"
    previous = os.umask(umask)
    try:
        code, out = _export_cli(embedded_s3, bucket, to)
    finally:
        os.umask(previous)
    assert code == cli.EXIT_OK, out
    made = [to, to.parent, to.parent.parent]
    assert {p.name: oct(_mode(p)) for p in made} == {p.name: oct(PRIVATE_MODE) for p in made}
    assert _mode(shared) == 0o755
    assert {oct(_mode(p)) for p in to.iterdir()} == {oct(FILE_MODE)}


def test_an_existing_target_keeps_its_mode(
    embedded_s3: EmbeddedS3, bucket: str, stored: MinioUploader, tmp_path: Path
) -> None:
    to = tmp_path / "out"
    to.mkdir()
    to.chmod(0o750)
    assert _export_cli(embedded_s3, bucket, to)[0] == cli.EXIT_OK
    assert _mode(to) == 0o750


class _CutOff:
    """A botocore hook that raises ``error`` as the ``after``-th GetObject goes out."""

    def __init__(self, after: int, error: BaseException) -> None:
        self.after, self.error, self.calls = after, error, 0

    def __call__(self, **_: Any) -> None:
        self.calls += 1
        if self.calls == self.after:
            raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (KeyboardInterrupt(), STATUS_INTERRUPTED),
        (EndpointConnectionError(endpoint_url="https://x"), STATUS_FAILED),
    ],
)
def test_an_export_cut_off_midway_leaves_a_manifest_of_exactly_what_is_there(
    stored: MinioUploader, bucket: str, tmp_path: Path, error: BaseException, status: str
) -> None:
    client = stored.client
    cut = _CutOff(3, error)
    client.meta.events.register("before-call.s3.GetObject", cut)
    try:
        with pytest.raises(type(error)):
            export_call(
                client, bucket, company_id=COMPANY, call_uuid=CALL, directory=tmp_path / "a"
            )
    finally:
        client.meta.events.unregister("before-call.s3.GetObject", cut)
    manifest = _manifest_matches_the_files(tmp_path / "a")
    assert manifest["status"] == status and manifest["complete"] is False
    assert len(manifest["files"]) == 2 and manifest["writing"] is None
    again = export_call(
        client, bucket, company_id=COMPANY, call_uuid=CALL, directory=tmp_path / "b"
    )
    assert again.complete and len(again.files) == len(DAYS)
    manifest = _manifest_matches_the_files(tmp_path / "b")
    assert manifest["status"] == STATUS_COMPLETE and manifest["complete"] is True


def test_ctrl_c_in_export_is_one_line_and_exit_130(
    embedded_s3: EmbeddedS3,
    bucket: str,
    stored: MinioUploader,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Interrupted(MinioUploader):
        """The CLI's uploader, with Ctrl-C arriving as the second object is fetched."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.client.meta.events.register(
                "before-call.s3.GetObject", _CutOff(2, KeyboardInterrupt())
            )

    monkeypatch.setattr(export_command, "MinioUploader", Interrupted)
    to = tmp_path / "out"
    code, _ = _export_cli(embedded_s3, bucket, to)
    err = capsys.readouterr().err
    assert code == cli.EXIT_INTERRUPTED
    assert err.count("\n") == 1 and "Traceback" not in err and str(to / MANIFEST) in err, err
    manifest = _manifest_matches_the_files(to)
    assert manifest["status"] == STATUS_INTERRUPTED and len(manifest["files"]) == 1


VERSIONS: Final = 200


@pytest.mark.parametrize("after", [0.0, 0.15], ids=["at-the-first-file", "further-on"])
def test_a_real_ctrl_c_in_the_export_process_is_one_line_exit_130_and_a_true_manifest(
    embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path, after: float
) -> None:
    """SIGINT to a running ``voice-recordings export``, part way through many versions: the
    signal lands wherever the process is (a read, a write, the manifest's rewrite), not at one
    chosen call as above; still one line, exit 130, and a manifest true to the files there."""
    embedded_s3.s3().put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    uploader = MinioUploader(embedded_s3.settings(bucket=bucket, spool_dir=None))
    for number in range(VERSIONS):
        uploader.upload_audio(b"ID3 %d" % number, call_uuid=CALL, company_id=COMPANY, when=DAYS[0])
    uploader.close()
    to = tmp_path / "out"
    command = ["export", "--company", str(COMPANY), "--call", CALL, "--to", str(to)]
    child = subprocess.Popen(
        [sys.executable, "-m", "voice_recordings.cli", *command],
        env={**os.environ, **embedded_s3.env(bucket=bucket), Env.SPOOL_DIR: "off"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _files_listed(to / MANIFEST):
        time.sleep(0.01)
    time.sleep(after)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == cli.EXIT_INTERRUPTED, err
    assert err.count("\n") == 1 and "Traceback" not in err and str(to / MANIFEST) in err, err
    manifest = _manifest_matches_the_files(to)
    assert manifest["status"] == STATUS_INTERRUPTED
    assert 0 < len(manifest["files"]) < VERSIONS


def _files_listed(manifest: Path) -> bool:
    """True once the manifest (rewritten atomically as files are written) lists a file."""
    try:
        return bool(json.loads(manifest.read_text())["files"])
    except (FileNotFoundError, KeyError):
        return False
