"""``--json`` without a storage server: stdout holds one JSON document and nothing else, the
lines for people (FAIL and its fix) go to stderr, and the exit code is the one without ``--json``.

What a cron job reads: the outcome, each check or entry with its fix, counts, the error that
ended the command. The same documents against a deployed stack: tests/integration.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.docs import RUNTIME, section, table_rows
from voice_recordings import MinioUploader, ReplayReport, StorageSettings, cli
from voice_recordings.cli.checks import STATUSES, STEPS, CheckResult
from voice_recordings.cli.json_documents import (
    check_fields,
    erase_fields,
    export_fields,
    replay_fields,
)
from voice_recordings.cli.output import JSON_FORMAT, Output, diagnosed
from voice_recordings.diagnostics import FIX_UNREACHABLE, Diagnosis
from voice_recordings.metrics import REPLAY_OUTCOMES
from voice_recordings.settings import MISSING_KEYS_MESSAGE, Env
from voice_recordings.subject_requests.erasure import ErasureReport, ErasureRequest, StoredVersion
from voice_recordings.subject_requests.export import Export, ExportedFile, NotExported

ENV = {
    Env.ENDPOINT: "127.0.0.1:9",  # nothing listens
    Env.ACCESS_KEY: "AKIAEXAMPLEUPLOADER",
    Env.SECRET_KEY: "unit-test-secret-not-real",
    Env.USE_SSL: "false",
    Env.MAX_ATTEMPTS: "1",
    Env.SPOOL_DIR: "off",
}


def run_json(
    argv: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str] = ENV
) -> tuple[int, dict[str, Any], str]:
    """The exit code, the one document (stdout parsed whole), and stderr."""
    out = io.StringIO()
    code = cli.main([*argv, "--json"], env, out)
    document = json.loads(out.getvalue())
    assert document["command"] == argv[0] and document["format"] == JSON_FORMAT
    assert document["exit_code"] == code and document["ok"] is (code == cli.EXIT_OK)
    assert ENV[Env.SECRET_KEY] not in out.getvalue()
    return code, document, capsys.readouterr().err


def test_check_names_each_step_with_its_status_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, err = run_json(["check"], capsys)
    assert code == cli.EXIT_FAILED
    by_name = {c["name"]: c for c in document["checks"]}
    assert list(by_name) == [step.name for step in STEPS]
    assert by_name["tcp"]["status"] == "FAIL" and by_name["tcp"]["fix"] == FIX_UNREACHABLE
    assert "Fix:" not in by_name["tcp"]["detail"]
    assert by_name["put"] == {
        "name": "put",
        "status": "SKIP",
        "detail": "needs the checks above",
        "fix": None,
    }
    assert set(document["counts"]) == set(STATUSES)
    assert document["counts"]["FAIL"] == 1 and sum(document["counts"].values()) == len(STEPS)
    assert document["settings"]["endpoint"] == "http://127.0.0.1:9"
    assert document["error"] is None
    # The lines, as without --json, on stderr: a cron log keeps them.
    assert "FAIL tcp" in err and f"Fix: {FIX_UNREACHABLE}" in err


def test_a_settings_error_is_the_document_s_error(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["check"], ["replay"], ["erase", "--company", "5"]):
        code, document, err = run_json(command, capsys, {Env.ENDPOINT: "storage.example.net"})
        assert code == cli.EXIT_USAGE
        assert document["error"]["category"] == "settings"
        assert MISSING_KEYS_MESSAGE in document["error"]["message"]
        assert f"FAIL settings      {MISSING_KEYS_MESSAGE}" in err


def test_replay_with_the_spool_off_has_no_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, err = run_json(["replay"], capsys)
    assert code == cli.EXIT_OK and "disabled" in err
    assert document["spool"] is None and document["result"] is None
    assert document["entries"] == [] and not any(document["counts"].values())


def test_replay_stopped_by_a_dead_server_keeps_the_entry_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**ENV, Env.SPOOL_DIR: str(tmp_path / "spool")}
    recording = tmp_path / "call.mp3"
    recording.write_bytes(b"ID3 audio")
    upload = ["upload", str(recording), "--company", "5", "--call", "abc-123"]
    assert cli.main(upload, env, io.StringIO()) == cli.EXIT_SPOOLED
    capsys.readouterr()

    code, document, err = run_json(["replay"], capsys, env)
    assert code == cli.EXIT_FAILED
    assert document["result"] == "stopped" and document["waiting"] == 1
    assert document["error"]["category"] == "unreachable"
    assert document["error"]["fix"] == FIX_UNREACHABLE
    zero: dict[str, int] = dict.fromkeys(REPLAY_OUTCOMES, 0)
    assert document["counts"] == {**zero, "busy": 0, "remaining": 1}
    assert "STOPPED" in err and "uploaded 0," in err


def test_replay_of_an_empty_spool_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {**ENV, Env.SPOOL_DIR: str(tmp_path / "spool")}
    code, document, _ = run_json(["replay"], capsys, env)
    assert code == cli.EXIT_OK and document["result"] == "ok"
    assert document["spool"] == str(tmp_path / "spool") and document["waiting"] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["erase", "--company", "0"],
        ["export", "--company", "0", "--call", "abc", "--to", "out"],
        ["export", "--company", "5", "--call", "a/b", "--to", "out"],
    ],
)
def test_a_refused_request_is_exit_2_with_the_rule(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, err = run_json(argv, capsys)
    assert code == cli.EXIT_USAGE and document["error"]["category"] == "usage"
    assert document["error"]["message"] in err


@pytest.mark.parametrize("command", [["erase", "--company", "5"], ["export", "--company", "5"]])
def test_an_unreachable_server_is_the_document_s_error(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = command if command[0] == "erase" else [*command, "--call", "c", "--to", str(tmp_path)]
    code, document, err = run_json(argv, capsys)
    assert code == cli.EXIT_FAILED
    assert document["error"] == {
        "category": "unreachable",
        "message": "storage server unreachable",
        "fix": FIX_UNREACHABLE,
    }
    assert f"FAIL {command[0]}: storage server unreachable. Fix: {FIX_UNREACHABLE}" in err


def test_ctrl_c_is_the_document_s_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object, **__: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(MinioUploader, "__init__", interrupted)
    code, document, err = run_json(["check"], capsys)
    assert code == cli.EXIT_INTERRUPTED and document["error"]["category"] == "interrupted"
    assert err.startswith("interrupted:") and err.count("\n") == 1


def test_without_json_nothing_changes(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert cli.main(["check"], ENV, out) == cli.EXIT_FAILED
    assert out.getvalue().startswith("OK   settings") and "FAIL tcp" in out.getvalue()
    assert "FAIL tcp" not in capsys.readouterr().err


# -- the documented shape (docs/runtime.md, "JSON output") against the documents -------------

ENVELOPE = "(every)"


def _documented() -> dict[str, dict[str, set[str]]]:
    """command -> field -> the names its row mentions (backticked)."""
    rows: dict[str, dict[str, set[str]]] = {}
    for command_cell, field_cell, holds in table_rows(section(RUNTIME, "JSON output")):
        command = command_cell.strip("`")
        (field,) = re.findall(r"`([^`]+)`", field_cell)
        rows.setdefault(command, {})[field] = set(re.findall(r"`([^`]+)`", holds))
    return rows


def _samples() -> dict[str, dict[str, Any]]:
    """A document of each command, from the code that builds them, every list holding one item
    (so each item's fields show) and one with an error."""
    settings = StorageSettings(endpoint="127.0.0.1:9", access_key="AKIAEXAMPLE", secret_key="s")
    version = StoredVersion(
        "company_5/voice/2026/01/15/a.mp3", "v1", 3, "2026-01-15T00:00:00Z", False
    )
    erased = ErasureReport(ErasureRequest(5, "a"), "b", "e", "AKIAEXAMPLE", "t", dry_run=False)
    erased.removed, erased.landed_after, erased.remaining = [version], [version], [version]
    erased.failed, erased.left_alone = [(version, "refused")], ["company_5/x"]
    stopped = Diagnosis("unreachable", "down", FIX_UNREACHABLE, transient=True)
    kept = [("k", "why. Fix: how")]
    replayed = ReplayReport(["k"], ["k"], kept, kept, kept, kept, stopped=stopped)
    exported = Export(
        Path("out"),
        files=[ExportedFile("k", "v1", Path("out/k"), "0" * 64, 3)],
        not_exported=[NotExported("k", "v0", "a delete marker", problem=False)],
        manifest=Path("out/manifest.json"),
    )
    fields = {
        "check": check_fields(
            settings, [CheckResult("tcp", "FAIL", f"no. Fix: {FIX_UNREACHABLE}")]
        ),
        "replay": {
            **replay_fields(Path("spool"), 1, replayed),
            "error": diagnosed(stopped),
        },
        "erase": erase_fields(erased, Path("report.jsonl")),
        "export": export_fields(5, "a", None, exported),
    }
    documents = {}
    for command, recorded in fields.items():
        output, stdout = Output(io.StringIO(), json=True), io.StringIO()
        output.record(**recorded)
        output.write_document(stdout, command, cli.EXIT_FAILED)
        documents[command] = json.loads(stdout.getvalue())
    return documents


def test_the_documented_fields_are_each_document_s() -> None:
    documented, samples = _documented(), _samples()
    envelope = documented.pop(ENVELOPE)
    assert set(documented) == {command.name for command in cli.COMMANDS if command.json}
    for command, document in samples.items():
        assert set(envelope) | set(documented[command]) == set(document), command
        for field, value in document.items():
            mentioned = {**envelope, **documented[command]}[field]
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):  # each of its fields is named in the row
                    assert set(item) <= mentioned, (command, field, set(item) - mentioned)
