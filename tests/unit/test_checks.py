"""``voice-recordings check``: a failed step skips exactly the steps that need it (one place), and
the check leaves the local disk as it found it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT, disk_tree, run_command
from voice_recordings import cli
from voice_recordings.cli import checks
from voice_recordings.cli.checks import STEPS, CheckContext, CheckResult, Status, Step
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.uploader import MinioUploader

ALL = [step.name for step in STEPS]
# What the troubleshooting section has always skipped after each failure (the order above).
SKIPPED_AFTER = {
    "dns": ALL[1:-1],
    "tcp": ALL[2:-1],
    "tls": ["health", "credentials", "bucket", "put", "get", "presigned-url", "delete-denied"],
    "health": [],
    "credentials": ["bucket", "put", "get", "presigned-url", "delete-denied"],
    "bucket": ["put", "get", "presigned-url", "delete-denied"],
    "put": ["get", "presigned-url", "delete-denied"],
    "get": [],
    "presigned-url": [],
    "delete-denied": [],
    "spool": [],
}


@pytest.fixture(scope="module")
def uploader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioUploader]:
    """Never used to send: the scripted steps stand in for the real ones."""
    settings = StorageSettings(
        endpoint="127.0.0.1:9",
        access_key="AKIAEXAMPLE",
        secret_key="unit-test-secret-not-real",
        use_ssl=False,
        spool_dir=tmp_path_factory.mktemp("spool"),
    )
    uploader = MinioUploader(settings)
    yield uploader
    uploader.close()


def scripted(statuses: dict[str, Status]) -> tuple[Step, ...]:
    """The real steps' names and needs, each answering the given status (OK by default)."""

    def answer(name: str) -> Step:
        status = statuses.get(name, "OK")
        ran = next(step for step in STEPS if step.name == name)
        return Step(name, lambda _: CheckResult(name, status, "scripted"), ran.needs)

    return tuple(answer(step.name) for step in STEPS)


def test_the_steps_print_in_the_troubleshooting_order() -> None:
    assert list(SKIPPED_AFTER) == ALL
    for index, step in enumerate(STEPS):  # a need is always an earlier step
        assert set(step.needs) <= set(ALL[:index]), step.name


@pytest.mark.parametrize("failed", ALL)
def test_a_failed_step_skips_exactly_its_dependants(
    failed: str, uploader: MinioUploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "STEPS", scripted({failed: "FAIL"}))
    results = list(checks.run_checks(uploader.settings, uploader))
    assert [r.name for r in results] == ALL
    skipped = [r.name for r in results if r.status == "SKIP"]
    assert skipped == SKIPPED_AFTER[failed]
    assert all(r.detail == "needs the checks above" for r in results if r.status == "SKIP")


@pytest.mark.parametrize("status", ["SKIP", "WARN"])
def test_a_step_skipped_by_choice_or_warning_skips_nothing(
    status: Status, uploader: MinioUploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    # e.g. tls SKIP with MINIO_USE_SSL=false, WARN for a certificate close to expiry
    monkeypatch.setattr(checks, "STEPS", scripted({"tls": status}))
    results = {r.name: r.status for r in checks.run_checks(uploader.settings, uploader)}
    assert results["tls"] == status
    assert all(results[name] == "OK" for name in ALL if name != "tls")


def test_the_context_splits_the_endpoint(uploader: MinioUploader) -> None:
    for endpoint, ssl, expected in [
        ("storage.example.org", True, ("storage.example.org", 443)),
        ("storage.example.org", False, ("storage.example.org", 80)),
        ("10.0.0.5:9000", True, ("10.0.0.5", 9000)),
        ("[::1]:9000", False, ("::1", 9000)),
    ]:
        settings = StorageSettings(
            endpoint=endpoint, access_key="AKIAEXAMPLE", secret_key="x" * 12, use_ssl=ssl
        )
        context = CheckContext.for_settings(settings, uploader)
        assert (context.host, context.port) == expected


def test_every_registered_subcommand_reaches_its_handler() -> None:
    parser = cli.build_parser()
    for command in cli.COMMANDS:
        argv = {
            "upload": ["upload", "f", "--company", "5", "--call", "c"],
            "url": ["url", "k"],
            "erase": ["erase", "--company", "5"],
            "export": ["export", "--company", "5", "--call", "c", "--to", "d"],
        }
        args = parser.parse_args(argv.get(command.name, [command.name]))
        assert args.command == command.name and args.handler is command.handler
        assert command.name in (cli.__doc__ or "")  # the module's usage lists it


@pytest.mark.parametrize("spool", ["default", "not there yet", "there, empty", "open to others"])
def test_check_changes_nothing_on_the_local_disk(spool: str, tmp_path: Path) -> None:
    """``voice-recordings check`` as a person runs it, its home, working directory and spool
    in ``tmp_path``: afterwards the tree is as it was, no directory made (not the default
    spool's ``~/.local/state/...``), no mode repaired, no probe file written and removed."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    spools = {
        "not there yet": tmp_path / "state" / "voice-recordings" / "spool",
        "there, empty": tmp_path / "spool",
        "open to others": tmp_path / "shared-spool",
    }
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MINIO_", "XDG_"))},
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        Env.ENDPOINT: "127.0.0.1:9",  # the server's steps fail; the spool's runs regardless
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
        Env.USE_SSL: "false",
    }
    if spool in spools:
        env[Env.SPOOL_DIR] = str(spools[spool])
    spools["there, empty"].mkdir(mode=0o700)
    spools["open to others"].mkdir()
    spools["open to others"].chmod(0o777)
    before = disk_tree(tmp_path)
    done = run_command([sys.executable, "-m", "voice_recordings.cli", "check"], cwd=work, env=env)
    assert done.returncode == cli.EXIT_FAILED, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.split()[1] == "spool")
    assert line.split()[0] == ("WARN" if spool == "open to others" else "OK"), line
    assert disk_tree(tmp_path) == before
