"""Every ``Fix:`` line is the one for the cause that prints it (issue 26.9): a table from cause
(staged through the CLI or the Python API) to the exact fix, over every fix the package names;
a guard that every ``Fix:`` in the package's source comes from one of those names; and ``check``
on a hung server (silence is not a certificate problem: no ``MINIO_CA_BUNDLE`` advice).
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import io
import os
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    FlexibleChecksumError,
    NoCredentialsError,
    ReadTimeoutError,
)

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.fake_servers.stalling import StallingServer
from tests.spool_owners import OTHER_UID, add, chown_tree, replay_cli, shared_dir
from tests.support import ROOT, offline_uploader
from voice_recordings import MinioUploader, cli, diagnostics
from voice_recordings.answers import NotS3Answer
from voice_recordings.cli import checks
from voice_recordings.cli.checks import (
    FIX_CAN_DELETE,
    FIX_OPEN_SPOOL,
    FIX_PUBLIC_URL,
    FIX_READ_BACK,
)
from voice_recordings.diagnostics import (
    FIX_ACCESS_DENIED,
    FIX_CREDENTIALS,
    FIX_MISSING_BUCKET,
    FIX_NOT_S3,
    FIX_SSL,
    FIX_SSL_EXPIRED,
    FIX_SSL_HOSTNAME,
    FIX_TIMEOUT,
    FIX_UNREACHABLE,
    Diagnosis,
    diagnose,
    diagnose_connection,
)
from voice_recordings.keys import erasure_marker_key, recording_key
from voice_recordings.metadata import object_metadata
from voice_recordings.permissions import PROBE_KEY
from voice_recordings.settings import Env
from voice_recordings.spool.entry_files import FIX_FOREIGN_ENTRY
from voice_recordings.spool.replay import FIX_SUPERSEDED
from voice_recordings.spool.spool import Spool
from voice_recordings.spool.spool_directory import FIX_FOREIGN_SPOOL, SPOOL_FIX
from voice_recordings.subject_requests.erasure import FIX_FOREIGN_MARKER
from voice_recordings.urls import FIX_MISSING_OBJECT, stored_object_problem

PACKAGE: Final = ROOT / "voice_recordings"
# How the package names a fix: FIX_<CAUSE>, or <WHERE>_FIX.
FIX_NAME: Final = re.compile(r"FIX_[A-Z0-9_]+|[A-Z0-9_]+_FIX")
COMPANY: Final = 5
WHEN: Final = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def _client_error(code: str, status: int = 400) -> ClientError:
    answer: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(answer, "PutObject")


def _verify_error(code: int) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = code
    return error


@dataclass(frozen=True)
class Scene:
    """Where a cause is staged: the embedded endpoint, a fresh bucket, a spool directory."""

    s3: EmbeddedS3
    bucket: str
    spool: Path

    def uploader(self, **extra: Any) -> MinioUploader:
        """An uploader with the endpoint's admin keys and this scene's spool."""
        settings = self.s3.settings(bucket=self.bucket, spool_dir=self.spool, **extra)
        return MinioUploader(settings)

    def check(self, step: Callable[[checks.CheckContext], checks.CheckResult], **extra: Any) -> str:
        """One ``check`` step's line against the endpoint, with this scene's spool."""
        uploader = self.uploader(**extra)
        try:
            return str(step(checks.CheckContext.for_settings(uploader.settings, uploader)))
        finally:
            uploader.close()


def _spooled(scene: Scene) -> Path:
    """A recording spooled while the server was down; its entry directory."""
    result = offline_uploader(scene.spool).upload_audio(
        b"audio", call_uuid="fix-lines", company_id=COMPANY, when=WHEN
    )
    assert result.spooled
    (entry,) = Spool(scene.spool).entries()
    return entry


def _replay_line(scene: Scene) -> str:
    """What the Python API's replay reports for the one entry it kept."""
    uploader = scene.uploader()
    try:
        report = uploader.replay_spool()
    finally:
        uploader.close()
    ((_, line),) = report.failed + report.foreign
    return line


def _foreign_marker(scene: Scene) -> str:
    _spooled(scene)
    marker = erasure_marker_key(COMPANY, "fix-lines")
    scene.s3.s3().put_object(Bucket=scene.bucket, Key=marker, Body=b"<html>hand-made")
    return _replay_line(scene)


def _newer_on_the_server(scene: Scene) -> str:
    _spooled(scene)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    scene.s3.s3().put_object(
        Bucket=scene.bucket,
        Key=recording_key(COMPANY, "fix-lines", WHEN),
        Body=b"newer audio",
        Metadata=object_metadata("fix-lines", COMPANY, uploaded_at=later),
    )
    return _replay_line(scene)


def _entry_another_user_owns(scene: Scene) -> str:
    chown_tree(_spooled(scene), OTHER_UID)
    return _replay_line(scene)


def _entry_this_user_cannot_open(scene: Scene) -> str:
    with shared_dir() as top:
        spool_dir = top / "spool"
        rooted = add(Spool(spool_dir), call="root-left")  # root's, 0700: closed to them
        os.chown(spool_dir, OTHER_UID, OTHER_UID)
        _, out, _ = replay_cli(spool_dir, as_other_user=True)
    (line,) = [line for line in out.splitlines() if line.startswith(f"FOREIGN {rooted.name}: ")]
    return line


def _read_back_other_bytes(scene: Scene) -> str:
    scene.s3.s3().put_object(Bucket=scene.bucket, Key=PROBE_KEY, Body=b"not the probe")
    return scene.check(checks._check_get)


def _delete_allowed(scene: Scene) -> str:
    scene.s3.s3().put_object(Bucket=scene.bucket, Key=PROBE_KEY, Body=checks.PROBE_BODY)
    return scene.check(checks._check_delete_denied)  # the admin's keys may delete


def _spool_open_to_others(scene: Scene) -> str:
    scene.spool.mkdir(mode=0o700)
    scene.spool.chmod(0o777)
    return scene.check(checks._check_spool)


def _spool_another_user_owns(scene: Scene) -> str:
    scene.spool.mkdir(mode=0o700)
    os.chown(scene.spool, OTHER_UID, OTHER_UID)
    return scene.check(checks._check_spool)


def _spool_is_a_file(scene: Scene) -> str:
    scene.spool.write_text("")
    return scene.check(checks._check_spool)


def _public_url_plays_nothing(scene: Scene) -> str:
    scene.s3.s3().put_object(Bucket=scene.bucket, Key=PROBE_KEY, Body=checks.PROBE_BODY)
    return scene.check(checks._check_presigned, public_url=f"http://127.0.0.1:{_closed_port()}")


def _url_of_nothing(scene: Scene) -> str:
    problem = stored_object_problem(scene.s3.s3(), scene.bucket, recording_key(COMPANY, "c", WHEN))
    return str(problem)


def _closed_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return int(unused.getsockname()[1])


def _diagnosed(make: Callable[[], Diagnosis]) -> Callable[[Scene], str]:
    return lambda _: str(make())


# Each cause, and the exact fix line it must print (``{spool}``: the scene's spool directory).
TABLE: dict[str, tuple[Callable[[Scene], str], str]] = {
    "bad key": (
        _diagnosed(lambda: diagnose(_client_error("InvalidAccessKeyId", 403))),
        FIX_CREDENTIALS,
    ),
    "no keys": (_diagnosed(lambda: diagnose(NoCredentialsError())), FIX_CREDENTIALS),
    "access denied": (
        _diagnosed(lambda: diagnose(_client_error("AccessDenied", 403))),
        FIX_ACCESS_DENIED,
    ),
    "no bucket": (
        _diagnosed(lambda: diagnose(_client_error("NoSuchBucket", 404))),
        FIX_MISSING_BUCKET,
    ),
    "server error": (
        _diagnosed(lambda: diagnose(_client_error("InternalError", 500))),
        FIX_UNREACHABLE,
    ),
    "refused": (
        _diagnosed(lambda: diagnose(EndpointConnectionError(endpoint_url="https://x"))),
        FIX_UNREACHABLE,
    ),
    "read timeout": (
        _diagnosed(lambda: diagnose(ReadTimeoutError(endpoint_url="https://x"))),
        FIX_UNREACHABLE,
    ),
    "not s3": (_diagnosed(lambda: diagnose(NotS3Answer(detail="no ETag"))), FIX_NOT_S3),
    "bytes not the checksum's": (
        _diagnosed(lambda: diagnose(FlexibleChecksumError(error_msg="mismatch"))),
        FIX_NOT_S3,
    ),
    "untrusted certificate": (_diagnosed(lambda: diagnose(_verify_error(20))), FIX_SSL),
    "expired certificate": (_diagnosed(lambda: diagnose(_verify_error(10))), FIX_SSL_EXPIRED),
    "another host's certificate": (
        _diagnosed(lambda: diagnose(_verify_error(62))),
        FIX_SSL_HOSTNAME,
    ),
    "silence": (_diagnosed(lambda: diagnose_connection(TimeoutError("timed out"))), FIX_TIMEOUT),
    "connection reset": (
        _diagnosed(lambda: diagnose_connection(ConnectionResetError())),
        FIX_UNREACHABLE,
    ),
    "a marker erase did not write": (_foreign_marker, FIX_FOREIGN_MARKER),
    "a newer object than the spooled copy": (_newer_on_the_server, FIX_SUPERSEDED),
    "a spool entry another user owns": (_entry_another_user_owns, FIX_FOREIGN_ENTRY),
    "a spool entry this user cannot open": (_entry_this_user_cannot_open, FIX_FOREIGN_ENTRY),
    "check reads back other bytes": (_read_back_other_bytes, FIX_READ_BACK),
    "check may delete": (_delete_allowed, FIX_CAN_DELETE),
    "a spool open to others": (_spool_open_to_others, FIX_OPEN_SPOOL),
    "a spool another user owns": (_spool_another_user_owns, FIX_FOREIGN_SPOOL),
    "a file where the spool should be": (_spool_is_a_file, SPOOL_FIX),
    "a public URL that plays nothing": (_public_url_plays_nothing, FIX_PUBLIC_URL),
    "a URL for a key not stored": (_url_of_nothing, FIX_MISSING_OBJECT),
}


@pytest.mark.parametrize("cause", sorted(TABLE))
def test_each_cause_prints_its_own_fix(
    cause: str, embedded_s3: EmbeddedS3, bucket: str, tmp_path: Path
) -> None:
    stage, fix = TABLE[cause]
    scene = Scene(embedded_s3, bucket, tmp_path / "spool")
    line = stage(scene)
    assert line.endswith(f"Fix: {fix.format(spool=scene.spool)}"), line


def _package_modules() -> list[tuple[Path, str]]:
    """Each source file of the package, its subpackages' too, and its module's dotted name."""
    found = []
    for source in sorted(PACKAGE.rglob("*.py")):
        parts = source.relative_to(ROOT).with_suffix("").parts
        found.append((source, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)))
    return found


def _fix_definitions() -> dict[str, str]:
    """Every named fix in the package (``FIX_*`` or ``*_FIX``), as ``module.NAME``: its text."""
    found = {}
    for _, dotted in _package_modules():
        module = importlib.import_module(dotted)
        for name, value in vars(module).items():
            if FIX_NAME.fullmatch(name) and isinstance(value, str):
                found[f"{dotted}.{name}"] = value
    return found


def test_the_table_covers_every_fix_the_package_names() -> None:
    tested = {fix for _, fix in TABLE.values()}
    untested = sorted(name for name, value in _fix_definitions().items() if value not in tested)
    assert not untested, f"add a row to TABLE for: {untested}"


# Strings with "Fix: " that print no fix of their own: the pattern that finds a message's fix
# (cli.output), its docstring, and the uploader's log line of a Diagnosis's fix.
NOT_PRINTED: Final = frozenset(
    {
        r"(?<=[.?!])\s+Fix: ",
        '``"<what>. Fix: <how>"`` as ``("<what>", "<how>")``; ``(text, None)`` without a fix.',
        "%s not stored (%s), spooled %d bytes to %s for replay. Fix: %s",
    }
)


def _names_a_tabled_fix(part: ast.expr | None, module: object) -> bool:
    """Is ``part`` ``{FIX_X}``, ``{FIX_X.format(...)}`` with FIX_X in the table, or a
    Diagnosis's own ``{....fix}`` (one of the diagnostics' fixes, all in the table)?"""
    if not isinstance(part, ast.FormattedValue):
        return False
    value = part.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if value.func.attr != "format":
            return False
        value = value.func.value
    if isinstance(value, ast.Attribute):
        return value.attr == "fix"
    tested = {fix for _, fix in TABLE.values()}
    return isinstance(value, ast.Name) and getattr(module, value.id, None) in tested


def _inline_fixes(tree: ast.AST, module: object) -> list[str]:
    """Each string in ``tree`` whose ``Fix: `` is not followed by a tabled, named fix."""
    bad = []
    inside = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if id(node) in inside:
            continue  # judged with its f-string, where what follows it is known
        if isinstance(node, ast.JoinedStr):
            parts: list[ast.expr] = list(node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts = [node]
        else:
            continue
        for n, part in enumerate(parts):
            text = part.value if isinstance(part, ast.Constant) else None
            if not isinstance(text, str) or "Fix: " not in text or text in NOT_PRINTED:
                continue
            # The fix ends the string: nothing may be appended to a named fix.
            after = parts[n + 1] if n + 2 == len(parts) else None
            if not (text.endswith("Fix: ") and _names_a_tabled_fix(after, module)):
                bad.append(f"line {node.lineno}: {text!r}")
    return bad


def test_every_fix_line_in_the_package_comes_from_a_tabled_name() -> None:
    bad = {}
    for source, dotted in _package_modules():
        module = importlib.import_module(dotted)
        found = _inline_fixes(ast.parse(source.read_text()), module)
        if found:
            bad[str(source.relative_to(ROOT))] = found
    assert not bad, f"name each fix beside the code that prints it, and add it to TABLE: {bad}"


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('f"{x} broke. Fix: restart it"', True),
        ('"broke. Fix: restart it"', True),
        ('f"{x} broke. Fix: {FIX_TIMEOUT}; or restart it"', True),
        ('f"{x} broke. Fix: {FIX_TIMEOUT}"', False),
        ('f"{x} broke. Fix: {diagnosis.fix}"', False),
    ],
)
def test_the_guard_catches_an_inline_fix(source: str, caught: bool) -> None:
    assert bool(_inline_fixes(ast.parse(source), diagnostics)) is caught


@pytest.mark.parametrize(("tls", "step"), [(True, "tls"), (False, "health")])
def test_check_on_a_hung_server_advises_the_endpoint_not_the_ca_bundle(
    tls: bool, step: str, tmp_path: Path
) -> None:
    with StallingServer("black-hole") as server:
        env = {
            Env.ENDPOINT: server.endpoint,
            Env.USE_SSL: "true" if tls else "false",
            Env.ACCESS_KEY: "AKIAEXAMPLE",
            Env.SECRET_KEY: "unit-test-secret-not-real",
            Env.MAX_ATTEMPTS: "1",
            Env.CONNECT_TIMEOUT: "0.3",
            Env.READ_TIMEOUT: "0.3",
            Env.SPOOL_DIR: str(tmp_path),
        }
        out = io.StringIO()
        assert cli.main(["check"], env, out) == cli.EXIT_FAILED
    text = out.getvalue()
    (line,) = [line for line in text.splitlines() if line.split()[1:2] == [step]]
    assert line.startswith("FAIL") and line.endswith(f"Fix: {FIX_TIMEOUT}"), text
    assert "MINIO_CA_BUNDLE" not in text


def test_check_on_a_closed_port_advises_the_endpoint(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    env = {
        Env.ENDPOINT: f"127.0.0.1:{port}",
        Env.USE_SSL: "true",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.CONNECT_TIMEOUT: "0.3",
        Env.SPOOL_DIR: str(tmp_path),
    }
    out = io.StringIO()
    assert cli.main(["check"], env, out) == cli.EXIT_FAILED
    assert f"Fix: {FIX_UNREACHABLE}" in out.getvalue()
    assert "MINIO_CA_BUNDLE" not in out.getvalue()
