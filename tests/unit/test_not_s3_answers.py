"""A server that answers 200 without being S3 never gets a recording marked "stored" (issue 19.1).

Every shape of impostor answer (devtools.fake_servers.impostors.ANSWERS), every shape of body
(bytes, a small file sent in one PUT, a file and a stream over the multipart threshold): the upload
returns a spooled result holding every byte, and the CLI exits 3 with one line, no traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.fake_servers.impostors import ANSWERS, Answer, ImpostorServer
from tests.support import ROOT, GeneratedStream
from voice_recordings import MinioUploader, StorageSettings, cli
from voice_recordings.cli import EXIT_SPOOLED
from voice_recordings.diagnostics import FIX_NOT_S3
from voice_recordings.settings import Env
from voice_recordings.spool.spool import Spool
from voice_recordings.transfer import MULTIPART_CHUNK

BIG = MULTIPART_CHUNK + 1024 * 1024
CLI = (sys.executable, "-m", "voice_recordings.cli")


@pytest.fixture(scope="module", params=ANSWERS)
def impostor(request: pytest.FixtureRequest) -> Iterator[ImpostorServer]:
    answer: Answer = request.param
    with ImpostorServer(answer) as server:
        yield server


def uploader_for(server: ImpostorServer, spool_dir: Path) -> MinioUploader:
    return MinioUploader(
        StorageSettings(
            endpoint=server.endpoint,
            access_key="AKIAEXAMPLE",
            secret_key="unit-test-secret-not-real",
            use_ssl=False,
            max_attempts=1,
            spool_dir=spool_dir,
        )
    )


def spooled_bodies(spool_dir: Path) -> list[bytes]:
    spool = Spool(spool_dir)
    return [(entry / "body").read_bytes() for entry in spool.entries()]


# What each shape of body holds; files are made from it per test.
BODIES: dict[str, bytes] = {
    "bytes": b"short recording",
    "small-file": b"s" * 1000,
    "big-file": bytes(range(256)) * (BIG // 256),
}


@pytest.mark.parametrize("shape", sorted(BODIES))
def test_no_answer_from_an_impostor_counts_as_stored(
    impostor: ImpostorServer, shape: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    expected = BODIES[shape]
    body: bytes | io.BytesIO = expected if shape == "bytes" else io.BytesIO(expected)
    uploader = uploader_for(impostor, tmp_path)
    result = uploader.upload_audio(body, call_uuid="long-call", company_id=5)
    assert result.spooled, f"{impostor.answer}: {shape} reported stored"
    assert spooled_bodies(tmp_path) == [expected]
    assert "not stored" in caplog.text and "Traceback" not in caplog.text


def test_a_stream_over_the_multipart_threshold_is_spooled_whole(
    impostor: ImpostorServer, tmp_path: Path
) -> None:
    stream = GeneratedStream(BIG)
    result = uploader_for(impostor, tmp_path).upload_audio(
        io.BufferedReader(stream), call_uuid="c", company_id=5
    )
    assert result.spooled and result.size == BIG
    (body,) = spooled_bodies(tmp_path)
    assert hashlib.sha256(body).digest() == stream.sha.digest()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    answer=st.sampled_from(ANSWERS),
    data=st.binary(min_size=1, max_size=4096),
    transcript=st.booleans(),
)
def test_property_any_impostor_answer_spools_what_was_given(
    answer: Answer, data: bytes, transcript: bool
) -> None:
    with ImpostorServer(answer) as server, _tmp_dir() as spool_dir:
        uploader = uploader_for(server, spool_dir)
        upload = uploader.upload_transcript if transcript else uploader.upload_audio
        result = upload(data, call_uuid="p", company_id=1)
        assert result.spooled
        assert spooled_bodies(spool_dir) == [data]


def test_the_cli_upload_from_stdin_exits_3_with_the_fix_and_no_traceback(tmp_path: Path) -> None:
    with ImpostorServer("empty") as server:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            Env.ENDPOINT: server.endpoint,
            Env.USE_SSL: "false",
            Env.ACCESS_KEY: "AKIAEXAMPLE",
            Env.SECRET_KEY: "unit-test-secret-not-real",
            Env.MAX_ATTEMPTS: "1",
            Env.SPOOL_DIR: str(tmp_path),
        }
        done = subprocess.run(
            [*CLI, "-v", "upload", "-", "--company", "5", "--call", "long"],
            input=b"m" * BIG,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
    stderr = done.stderr.decode()
    assert done.returncode == EXIT_SPOOLED, stderr
    assert "Traceback" not in stderr and "KeyError" not in stderr
    assert FIX_NOT_S3.split(":")[0] in stderr
    assert "unit-test-secret-not-real" not in stderr
    assert spooled_bodies(tmp_path) == [b"m" * BIG]


@contextlib.contextmanager
def _tmp_dir() -> Iterator[Path]:
    """A fresh directory per hypothesis example (pytest's tmp_path is one per test)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def test_availability_check_and_replay_do_not_take_an_impostor_for_s3(
    impostor: ImpostorServer, tmp_path: Path
) -> None:
    uploader = uploader_for(impostor, tmp_path)
    assert not uploader.is_available
    assert uploader.upload_audio(b"kept", call_uuid="c", company_id=5).spooled
    report = uploader.replay_spool()  # HEAD and PUT both answered 200: neither is trusted
    assert report.uploaded == [] and report.already_stored == [] and report.remaining == 1
    assert spooled_bodies(tmp_path) == [b"kept"]
    env = {
        Env.ENDPOINT: impostor.endpoint,
        Env.USE_SSL: "false",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.MAX_ATTEMPTS: "1",
        Env.SPOOL_DIR: str(tmp_path),
    }
    out = io.StringIO()
    assert cli.main(["check"], env, out) == cli.EXIT_FAILED
    assert "FAIL credentials" in out.getvalue() or "FAIL put" in out.getvalue()
