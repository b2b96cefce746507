"""``voice-recordings check``: a failed step skips exactly the steps that need it (one place)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voice_recordings import checks, cli
from voice_recordings.checks import STEPS, CheckContext, CheckResult, Status, Step
from voice_recordings.settings import StorageSettings
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
