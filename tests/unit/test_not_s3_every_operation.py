"""Every command takes only S3's answers for S3's, for every operation it calls (issue 26.6).

A console port or a catch-all proxy (devtools.fake_servers.impostors) answers 200 to anything: an
empty listing must not read as "nothing stored" (``erase`` would say "would erase 0 version(s)"
and exit 0), nor an empty 200 as "deleted". Each command, through the CLI, fails with one line
naming the endpoint problem (FIX_NOT_S3); and every client operation the package calls is one
the answer checks (voice_recordings.answers) know.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore import xform_name
from botocore.session import get_session

from devtools.fake_servers.impostors import ANSWERS, Answer, ImpostorServer
from tests.support import ROOT
from voice_recordings import cli
from voice_recordings.answers import CHECKED_OPERATIONS
from voice_recordings.diagnostics import FIX_NOT_S3
from voice_recordings.settings import Env

# Each command that reads or removes stored objects, with the arguments that reach the server.
COMMANDS: dict[str, list[str]] = {
    "check": ["check"],
    "erase-dry-run": ["erase", "--company", "5", "--call", "c1"],
    "erase-company": ["erase", "--company", "5"],
    "erase-yes": ["erase", "--company", "5", "--call", "c1", "--yes"],
    "export-listing": ["export", "--company", "5", "--call", "c1"],
    "export-day": ["export", "--company", "5", "--call", "c1", "--day", "2026-01-02"],
}


@pytest.fixture(scope="module", params=ANSWERS)
def impostor(request: pytest.FixtureRequest) -> Iterator[ImpostorServer]:
    answer: Answer = request.param
    with ImpostorServer(answer) as server:
        yield server


def env_for(server: ImpostorServer, tmp_path: Path) -> dict[str, str]:
    return {
        Env.ENDPOINT: server.endpoint,
        Env.USE_SSL: "false",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.MAX_ATTEMPTS: "1",
        Env.SPOOL_DIR: str(tmp_path / "spool"),
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_fails_naming_the_endpoint_over_an_impostor(
    impostor: ImpostorServer, command: str, tmp_path: Path
) -> None:
    args = list(COMMANDS[command])
    if args[0] == "export":
        args += ["--to", str(tmp_path / "out")]
    if "--yes" in args:
        args += ["--report", str(tmp_path / "report.jsonl")]
    out = io.StringIO()
    code = cli.main(args, env_for(impostor, tmp_path), out)
    text = out.getvalue()
    assert code == cli.EXIT_FAILED, f"{impostor.answer}: {text}"
    assert FIX_NOT_S3 in text, f"{impostor.answer}: {text}"
    assert "would erase 0" not in text and "erased 0" not in text
    exported = tmp_path / "out"
    assert not exported.exists() or not any(p.stat().st_size for p in exported.rglob("*"))


def _called_operations() -> set[str]:
    """The S3 operations the runtime package calls on a client (``client.x(...)`` and
    ``get_paginator("x")``), by their API names."""
    model = get_session().get_service_model("s3")
    by_method = {xform_name(name): name for name in model.operation_names}
    called: set[str] = set()
    for path in (ROOT / "voice_recordings").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                name = str(node.args[0].value)
            if name in by_method:
                called.add(by_method[name])
    return called


def test_every_operation_the_package_calls_has_its_answer_checked() -> None:
    called = _called_operations()
    assert {"ListObjectVersions", "DeleteObjects", "DeleteObject", "GetObject"} <= called
    # upload_fileobj is s3transfer's: its PutObject and multipart calls are in the table.
    assert called - CHECKED_OPERATIONS == set()
