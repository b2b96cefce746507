"""Fault tests on the embedded endpoint: server down, wrong keys, corruption, concurrency.

"Server down" is an endpoint where nothing listens (what a stopped server looks like to the
client); one test also stops a real embedded server and replays to a new one on a new port, in a
child process (moto's state is per process, and this process shares one endpoint between tests).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import os
import shutil
import socket
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from tests.support import GeneratedStream, run_python
from voice_recordings.checksums import REPLAY_CHECKSUM, UPLOAD_CHECKSUM
from voice_recordings.diagnostics import FIX_CREDENTIALS, FIX_UNREACHABLE
from voice_recordings.errors import StorageError
from voice_recordings.keys import KINDS, recording_key
from voice_recordings.metrics import SPOOL_ITEMS, upload_metrics
from voice_recordings.settings import StorageSettings
from voice_recordings.spool.entry import BODY_FILE
from voice_recordings.spool.spool import Spool
from voice_recordings.uploader import MinioUploader

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
FAST: dict[str, Any] = {"max_attempts": 1, "connect_timeout": 1.0, "read_timeout": 10.0}


def dead_endpoint() -> str:
    """``127.0.0.1:PORT`` where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def make_uploader(settings: StorageSettings) -> tuple[MinioUploader, CollectorRegistry]:
    registry = CollectorRegistry()
    return MinioUploader(settings, metrics=upload_metrics(registry)), registry


@pytest.fixture
def live(embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path) -> StorageSettings:
    return embedded_s3.settings(bucket=bucket, spool_dir=tmp_path / "spool", **FAST)


@pytest.fixture
def down(live: StorageSettings) -> StorageSettings:
    return dataclasses.replace(live, endpoint=dead_endpoint())


def stored(embedded_s3: EmbeddedS3, bucket: str, key: str) -> dict[str, Any]:
    s3 = embedded_s3.s3()
    head = s3.head_object(Bucket=bucket, Key=key)
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {
        "sha256": hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest(),
        "content_type": head["ContentType"],
        "metadata": head["Metadata"],
        "tags": {t["Key"]: t["Value"] for t in tags},
    }


def test_server_down_spools_and_replay_restores_identical_objects(
    embedded_s3: EmbeddedS3, bucket: str, live: StorageSettings, down: StorageSettings
) -> None:
    offline, registry = make_uploader(down)
    small = b"\xffID3 short call" * 10
    seekable = os.urandom(12 * 1024 * 1024)  # multipart-sized
    stream = GeneratedStream(10 * 1024 * 1024)
    results = [
        offline.upload_audio(
            small,
            call_uuid="down-bytes",
            company_id=5,
            domain_uuid="dom-1",
            secretary_uuid="sec-1",
            when=WHEN,
        ),
        offline.upload_audio(io.BytesIO(seekable), call_uuid="down-file", company_id=5, when=WHEN),
        offline.upload_audio(
            io.BufferedReader(stream), call_uuid="down-stream", company_id=5, when=WHEN
        ),
        offline.upload_transcript(
            "Olá, ligação encerrada.", call_uuid="down-bytes", company_id=5, when=WHEN
        ),
    ]
    expected = {
        results[0].key: hashlib.sha256(small).hexdigest(),
        results[1].key: hashlib.sha256(seekable).hexdigest(),
        results[2].key: stream.sha.hexdigest(),
        results[3].key: hashlib.sha256("Olá, ligação encerrada.".encode()).hexdigest(),
    }

    assert all(r.spooled for r in results)
    assert results[0].key == recording_key(5, "down-bytes", WHEN)  # deterministic: URL is final
    assert results[0].url.startswith(f"{down.public_url}/{bucket}/{results[0].key}?")
    assert [r.size for r in results[:3]] == [len(small), len(seekable), 10 * 1024 * 1024]
    assert registry.get_sample_value("voice_ai_minio_uploads_total", {"status": "spooled"}) == 4
    assert registry.get_sample_value(SPOOL_ITEMS) == 4
    assert embedded_s3.s3().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0

    online, online_registry = make_uploader(live)  # the server is back
    report = online.replay_spool()

    assert sorted(report.uploaded) == sorted(expected) and report.ok
    assert Spool(live.spool_dir or "").entries() == []
    assert online_registry.get_sample_value(SPOOL_ITEMS) == 0
    for key, sha256 in expected.items():
        obj = stored(embedded_s3, bucket, key)
        kind = KINDS["transcript" if key.endswith(".txt") else "voice"]
        assert obj["sha256"] == sha256
        assert obj["content_type"] == kind.content_type and obj["tags"] == kind.tag
    first = stored(embedded_s3, bucket, results[0].key)["metadata"]
    assert first["call-uuid"] == "down-bytes" and first["secretary-uuid"] == "sec-1"


def test_replay_twice_is_harmless_and_skips_objects_already_stored(
    embedded_s3: EmbeddedS3, live: StorageSettings, down: StorageSettings, tmp_path: Path
) -> None:
    offline, _ = make_uploader(down)
    result = offline.upload_audio(b"audio", call_uuid="twice", company_id=5, when=WHEN)
    online, _ = make_uploader(live)
    spool = Spool(live.spool_dir or "")
    (entry_dir,) = spool.entries()
    kept = tmp_path / "kept-entry"
    shutil.copytree(entry_dir, kept)
    assert online.replay_spool().uploaded == [result.key]
    # The object reached the server but the entry stayed (a replayer died before removing it).
    shutil.copytree(kept, entry_dir)
    calls: list[str] = []
    online.client.meta.events.register(
        "before-call.s3.*", lambda model, **_: calls.append(model.name)
    )

    first = online.replay_spool()
    second = online.replay_spool()

    assert first.already_stored == [result.key] and first.uploaded == [] and first.ok
    assert "PutObject" not in calls
    assert second.uploaded == second.already_stored == [] and second.ok


def test_replay_sends_the_entrys_sha256_as_its_one_checksum_and_no_second_hash(
    live: StorageSettings, down: StorageSettings
) -> None:
    # Replay keeps SHA-256 (voice_recordings.checksums.REPLAY_CHECKSUM): the spool's own digest,
    # given in a header, so botocore hashes nothing again (UNSIGNED-PAYLOAD over TLS).
    assert live.use_ssl
    data = os.urandom(100_000)
    make_uploader(down)[0].upload_audio(data, call_uuid="replayed", company_id=5, when=WHEN)
    online, _ = make_uploader(live)
    sent: list[tuple[bytes, dict[str, str]]] = []

    def capture(request: Any, **_: Any) -> None:
        checksums = {
            k.lower(): v.decode()
            for k, v in request.headers.items()
            if k.lower().startswith("x-amz-checksum-")
        }
        sent.append((request.headers["X-Amz-Content-SHA256"], checksums))

    online.client.meta.events.register("before-send.s3.PutObject", capture)
    assert online.replay_spool().ok
    assert sent == [(b"UNSIGNED-PAYLOAD", {REPLAY_CHECKSUM.header: REPLAY_CHECKSUM.b64(data)})]


def crc32_twin(data: bytes) -> bytes:
    """Other bytes of the same length and the same CRC32: the first byte flipped, the last four
    chosen to restore the CRC32 (CRC32 is affine over GF(2), so that is a 32x32 linear system).
    What makes a CRC32 no proof that a server holds given bytes."""
    assert len(data) > 4
    forged = bytes([data[0] ^ 0xFF]) + data[1:-4]
    zeros = bytes(len(data))
    base = zlib.crc32(forged + bytes(4))
    # Each bit of the last four bytes flips a fixed pattern of the CRC's bits.
    columns = [
        zlib.crc32(bytes(len(data) - 4) + (1 << bit).to_bytes(4, "little")) ^ zlib.crc32(zeros)
        for bit in range(32)
    ]
    basis: list[tuple[int, int]] = []  # (pattern, which bits make it), one per leading bit
    for bit, column in enumerate(columns):
        mask = 1 << bit
        for pattern, made_of in basis:
            if column ^ pattern < column:
                column, mask = column ^ pattern, mask ^ made_of
        if column:
            basis.append((column, mask))
            basis.sort(reverse=True)
    want, mask = zlib.crc32(data) ^ base, 0
    for pattern, made_of in basis:
        if want ^ pattern < want:
            want, mask = want ^ pattern, mask ^ made_of
    assert want == 0
    twin = forged + mask.to_bytes(4, "little")
    assert twin != data and len(twin) == len(data) and zlib.crc32(twin) == zlib.crc32(data)
    return twin


@pytest.mark.parametrize("same_bytes", [True, False], ids=["same-bytes", "crc32-twin"])
def test_an_object_stored_with_only_a_crc32_is_never_taken_as_already_stored(
    embedded_s3: EmbeddedS3, live: StorageSettings, down: StorageSettings, same_bytes: bool
) -> None:
    # An upload stores its CRC32 (voice_recordings.checksums.UPLOAD_CHECKSUM): the server may
    # hold the spooled recording's key with the same size, metadata and CRC32 (its answer came
    # too late; or other bytes with that CRC32). Replay demands the SHA-256 it keeps for the
    # entry, so it uploads again; afterwards the server holds the entry's bytes and SHA-256.
    data = os.urandom(64 * 1024)
    offline, _ = make_uploader(down)
    result = offline.upload_audio(data, call_uuid="crc-only", company_id=5, when=WHEN)
    online, _ = make_uploader(live)
    on_server = data if same_bytes else crc32_twin(data)
    online.upload_audio(on_server, call_uuid="crc-only", company_id=5, when=WHEN)
    (entry_dir,) = Spool(live.spool_dir or "").entries()
    meta_file = entry_dir / "entry.json"
    entry = json.loads(meta_file.read_text())
    entry["metadata"] = stored(embedded_s3, live.bucket, result.key)["metadata"]
    meta_file.write_text(json.dumps(entry))  # everything the server reports matches but SHA-256
    s3 = embedded_s3.s3()
    before = s3.head_object(Bucket=live.bucket, Key=result.key, ChecksumMode="ENABLED")
    assert before.get(UPLOAD_CHECKSUM.field) == UPLOAD_CHECKSUM.b64(data)
    assert before["ContentLength"] == len(data) and REPLAY_CHECKSUM.field not in before

    report = online.replay_spool()

    assert report.uploaded == [result.key] and report.already_stored == [] and report.ok
    after = s3.head_object(Bucket=live.bucket, Key=result.key, ChecksumMode="ENABLED")
    assert after.get(REPLAY_CHECKSUM.field) == REPLAY_CHECKSUM.b64(data)
    assert (
        stored(embedded_s3, live.bucket, result.key)["sha256"] == hashlib.sha256(data).hexdigest()
    )


def test_corrupt_entry_is_reported_kept_and_never_uploaded(
    embedded_s3: EmbeddedS3, live: StorageSettings, down: StorageSettings
) -> None:
    offline, _ = make_uploader(down)
    bad = offline.upload_audio(b"recording one", call_uuid="corrupt-1", company_id=5, when=WHEN)
    good = offline.upload_audio(b"recording two", call_uuid="corrupt-2", company_id=5, when=WHEN)
    spool = Spool(live.spool_dir or "")
    damaged = spool.entries()[0]
    (damaged / BODY_FILE).write_bytes(b"recording 0ne")  # a flipped byte on disk

    report = make_uploader(live)[0].replay_spool()

    assert [name for name, _ in report.corrupt] == [damaged.name]
    assert report.uploaded == [good.key] and not report.ok and report.remaining == 1
    assert spool.entries() == [damaged]
    keys = [o["Key"] for o in embedded_s3.s3().list_objects_v2(Bucket=live.bucket)["Contents"]]
    assert keys == [good.key] and bad.key not in keys


def test_replay_keeps_an_entry_the_server_refuses_or_does_not_confirm(
    embedded_s3: EmbeddedS3, live: StorageSettings, down: StorageSettings
) -> None:
    make_uploader(down)[0].upload_audio(
        b"original audio", call_uuid="unverified", company_id=5, when=WHEN
    )
    online, _ = make_uploader(live)

    def tamper(request: Any, **_: Any) -> None:
        body = request.body.read() if hasattr(request.body, "read") else request.body
        request.body = b"X" + body[1:]  # corrupted on the wire: the server refuses (BadDigest)

    online.client.meta.events.register("before-send.s3.PutObject", tamper)
    refused = online.replay_spool()
    online.client.meta.events.unregister("before-send.s3.PutObject", tamper)

    def shrink(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ContentLength"] = parsed.get("ContentLength", 0) - 1  # the server "lost" a byte

    online.client.meta.events.register("after-call.s3.HeadObject", shrink)
    unconfirmed = online.replay_spool()

    assert "BadDigest" in refused.failed[0][1] and refused.remaining == 1
    assert "expected 14 bytes" in unconfirmed.failed[0][1] and unconfirmed.remaining == 1
    assert Spool(live.spool_dir or "").count() == 1


def test_wrong_secret_spools_with_one_line_and_the_fix_and_never_logs_the_secret(
    embedded_s3: EmbeddedS3, live: StorageSettings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-secret-4f1c9d2e7a"
    wrong = dataclasses.replace(live, secret_key=secret)
    caplog.set_level(logging.DEBUG)  # botocore's request dumps included

    uploader, registry = make_uploader(wrong)
    result = uploader.upload_audio(b"x" * 1000, call_uuid="wrong-keys", company_id=5, when=WHEN)
    replay = uploader.replay_spool()

    assert result.spooled
    assert registry.get_sample_value("voice_ai_minio_uploads_total", {"status": "spooled"}) == 1
    ours = [r for r in caplog.records if r.name.startswith("voice_recordings")]
    spool_lines = [r for r in ours if "spooled" in r.getMessage()]
    assert len(spool_lines) == 1 and spool_lines[0].levelno == logging.ERROR
    assert FIX_CREDENTIALS in spool_lines[0].getMessage()
    # Replay does not hammer the server once per entry with keys it already refused.
    assert replay.stopped is not None and replay.stopped.category == "credentials"
    assert replay.remaining == 1
    assert secret not in caplog.text
    assert secret not in (Spool(live.spool_dir or "").entries()[0] / "entry.json").read_text()


def test_spool_disabled_raises_with_the_fix_and_counts_an_error(down: StorageSettings) -> None:
    uploader, registry = make_uploader(dataclasses.replace(down, spool_dir=None))
    with pytest.raises(StorageError, match="unreachable") as raised:
        uploader.upload_audio(b"lost", call_uuid="no-spool", company_id=5, when=WHEN)
    assert FIX_UNREACHABLE in str(raised.value)
    assert registry.get_sample_value("voice_ai_minio_uploads_total", {"status": "error"}) == 1


def test_two_replayers_at_once_upload_each_entry_exactly_once(
    embedded_s3: EmbeddedS3, live: StorageSettings, down: StorageSettings
) -> None:
    offline, _ = make_uploader(down)
    keys = {
        offline.upload_audio(
            os.urandom(200_000), call_uuid=f"pair-{i}", company_id=5, when=WHEN
        ).key
        for i in range(12)
    }
    puts: list[str] = []
    replayers = [make_uploader(live)[0] for _ in range(2)]
    for replayer in replayers:
        replayer.client.meta.events.register(
            "before-parameter-build.s3.PutObject", lambda params, **_: puts.append(params["Key"])
        )
    reports: list[Any] = []
    threads = [
        threading.Thread(target=lambda r=r: reports.append(r.replay_spool())) for r in replayers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    uploaded = [key for report in reports for key in report.uploaded]
    assert sorted(uploaded) == sorted(keys) and sorted(puts) == sorted(keys)
    assert Spool(live.spool_dir or "").count() == 0


def test_one_hundred_concurrent_awaitable_uploads_all_land(
    embedded_s3: EmbeddedS3, live: StorageSettings
) -> None:
    uploader, registry = make_uploader(live)
    bodies = {f"burst-{i}": os.urandom(20_000 + i) for i in range(100)}

    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(
                uploader.upload_audio_async(body, call_uuid=call, company_id=7, when=WHEN)
                for call, body in bodies.items()
            )
        )

    results = asyncio.run(burst())

    assert not any(r.spooled for r in results)
    assert registry.get_sample_value("voice_ai_minio_uploads_total", {"status": "success"}) == 100
    listed = embedded_s3.s3().list_objects_v2(Bucket=live.bucket, Prefix="company_7/")
    assert listed["KeyCount"] == 100
    for result in results[:5]:
        call = result.key.rsplit("/", 1)[1].removesuffix(".mp3")
        assert (
            stored(embedded_s3, live.bucket, result.key)["sha256"]
            == hashlib.sha256(bodies[call]).hexdigest()
        )


# -- a real stop and a new server on a new port, in a child process ----------------------------

RESTART_SCENARIO = """
import dataclasses, datetime as dt, hashlib, json, sys
from pathlib import Path
from devtools.endpoint.embedded_s3 import EmbeddedS3
from voice_recordings.uploader import MinioUploader
from voice_recordings.spool.spool import Spool

spool_dir = Path(sys.argv[1])
when = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
fast = dict(max_attempts=2, connect_timeout=1.0, read_timeout=5.0, spool_dir=spool_dir)
data = b"call audio " * 50_000
with EmbeddedS3() as first:
    first.s3().create_bucket(Bucket="voice-recordings")
    uploader = MinioUploader(first.settings(**fast))
    # a pooled connection
    warm = uploader.upload_audio(b"before the outage", call_uuid="warm", company_id=9, when=when)
    old_port = first.endpoint
# the server is stopped: the same uploader, same pooled client
spooled = uploader.upload_audio(
    data, call_uuid="outage", company_id=9, domain_uuid="dom", secretary_uuid="sec", when=when
)
with EmbeddedS3() as second:  # back, on a new port with new keys
    second.s3().create_bucket(Bucket="voice-recordings")
    report = MinioUploader(second.settings(**fast)).replay_spool()
    s3 = second.s3()
    head = s3.head_object(Bucket="voice-recordings", Key=spooled.key)
    body = s3.get_object(Bucket="voice-recordings", Key=spooled.key)["Body"].read()
    print(json.dumps({
        "warm_spooled": warm.spooled,
        "spooled": spooled.spooled,
        "new_port": second.endpoint != old_port,
        "uploaded": report.uploaded,
        "same_bytes": hashlib.sha256(body).digest() == hashlib.sha256(data).digest(),
        "metadata": head["Metadata"],
        "left": Spool(spool_dir).count(),
        "key": spooled.key,
    }))
"""


def test_stopped_server_then_a_new_one_on_a_new_port(tmp_path: Path) -> None:
    out = run_python(RESTART_SCENARIO, str(tmp_path / "spool"))
    outcome = json.loads(out.strip().splitlines()[-1])
    assert outcome["spooled"] and not outcome["warm_spooled"] and outcome["new_port"]
    assert outcome["uploaded"] == [outcome["key"]] and outcome["same_bytes"]
    assert outcome["metadata"]["call-uuid"] == "outage"
    assert outcome["metadata"]["domain-uuid"] == "dom"
    assert outcome["left"] == 0


def test_replay_targets_whatever_uploader_it_is_given(
    embedded_s3: EmbeddedS3, bucket: str, live: StorageSettings, down: StorageSettings
) -> None:
    # Keys rotated while the server was down: replay with the new identity's settings.
    make_uploader(down)[0].upload_audio(b"rotated", call_uuid="rotate", company_id=5, when=WHEN)
    iam = embedded_s3.iam()
    name = f"rotated-{bucket}"
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    rotated = embedded_s3.settings(creds, bucket=bucket, spool_dir=live.spool_dir, **FAST)
    assert make_uploader(rotated)[0].replay_spool().uploaded == [recording_key(5, "rotate", WHEN)]


def test_a_real_file_is_spooled_from_its_position_and_left_open(
    live: StorageSettings, down: StorageSettings, tmp_path: Path
) -> None:
    # s3transfer closes the body of a single PUT; the caller's file must survive that, both to
    # be spooled after a failure and because it is the caller's to close.
    path = tmp_path / "call.mp3"
    path.write_bytes(b"HEADER" + b"audio frames" * 1000)
    with open(path, "rb") as recording:
        recording.seek(6)
        result = make_uploader(down)[0].upload_audio(
            recording, call_uuid="real-file", company_id=5, when=WHEN
        )
        assert result.spooled and not recording.closed
        recording.seek(6)
        stored_ok = make_uploader(live)[0].upload_audio(
            recording, call_uuid="after", company_id=5, when=WHEN
        )
        assert not stored_ok.spooled and stored_ok.size == 12_000 and not recording.closed
    entry_dir = Spool(live.spool_dir or "").entries()[0]
    assert (entry_dir / BODY_FILE).read_bytes() == b"audio frames" * 1000
