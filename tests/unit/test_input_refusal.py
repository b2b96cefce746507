"""Input the package must refuse with a clear error, never a traceback or a wrong key, and
secrets that must never be echoed: through the package API and the ``voice-recordings`` CLI."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import StackConfigError, full_key, parse_stack_config
from tests.support import offline_uploader, run_command
from voice_recordings import cli
from voice_recordings.endpoints import redact_url
from voice_recordings.errors import ConfigError, InvalidInputError
from voice_recordings.keys import (
    MAX_YEAR,
    MIN_YEAR,
    TRANSCRIPT,
    VOICE,
    object_key,
    parse_key,
    recording_key,
)
from voice_recordings.metadata import META_CALL_UUID, META_COMPANY_ID, object_metadata
from voice_recordings.settings import DEFAULT_UPLOAD_DEADLINE, Env, StorageSettings

SECRET = "s3cr3t-Value/with?odd#chars"
BASE = {Env.ACCESS_KEY: "AKIAEXAMPLE", Env.SECRET_KEY: "unit-test-secret-not-real"}
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


# -- dates ----------------------------------------------------------------------------------


@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 1),
        max_value=dt.datetime(9999, 12, 31, 23, 59, 59),
        timezones=st.sampled_from(
            [dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(-dt.timedelta(hours=23))]
        ),
    )
)
def test_every_aware_datetime_makes_a_parseable_key_or_a_clear_refusal(when: dt.datetime) -> None:
    try:
        key = recording_key(5, "abc-123", when)
    except InvalidInputError as exc:
        assert str(MIN_YEAR) in str(exc) and str(MAX_YEAR) in str(exc)
        return
    parsed = parse_key(key)  # a spooled entry with this key can be replayed
    assert parsed.key == key and MIN_YEAR <= parsed.date.year <= MAX_YEAR
    assert parsed.date == when.astimezone(dt.UTC).date()


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(999, 12, 31, 23, 0, tzinfo=dt.UTC),
        dt.datetime(1000, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # 999 in UTC
        dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=5))),  # overflows
        dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=5))),  # overflows
    ],
)
def test_dates_outside_four_digit_years_are_refused_by_key_metadata_and_upload(
    when: dt.datetime, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="between the years 1000 and 9999"):
        object_key(VOICE, 5, "abc", when)
    with pytest.raises(InvalidInputError, match="between the years 1000 and 9999"):
        object_metadata("abc", 5, uploaded_at=when)
    with pytest.raises(InvalidInputError, match="between the years 1000 and 9999"):
        offline_uploader(tmp_path / "spool").upload_audio(
            b"x", call_uuid="abc", company_id=5, when=when
        )
    assert not (tmp_path / "spool").exists()


def test_a_key_with_a_year_below_1000_is_not_a_key() -> None:
    with pytest.raises(InvalidInputError, match="invalid date"):
        parse_key("company_5/voice/0999/01/15/abc.mp3")


def test_cli_refuses_an_out_of_range_date_with_exit_2(tmp_path: Path) -> None:
    recording = tmp_path / "call.mp3"
    recording.write_bytes(b"ID3")
    env = {**BASE, Env.ENDPOINT: "127.0.0.1:9", Env.USE_SSL: "false", Env.SPOOL_DIR: "off"}
    code = cli.main(
        ["upload", str(recording), "--company", "5", "--call", "a", "--date", "0999-06-01T00:00Z"],
        env,
        io.StringIO(),
    )
    assert code == cli.EXIT_USAGE


# -- ids: subclasses are normalised before formatting ----------------------------------------


class SneakyInt(int):
    def __format__(self, spec: str) -> str:
        return "../../company_6"

    def __str__(self) -> str:
        return "../../company_6"

    __repr__ = __str__

    def __int__(self) -> int:
        return 6


class SneakyStr(str):
    def __format__(self, spec: str) -> str:
        return "../../etc/passwd"

    def __str__(self) -> str:
        return "../../etc/passwd"


@pytest.mark.parametrize("company", [SneakyInt(5), SneakyStr("5")])
def test_id_subclasses_cannot_change_key_or_metadata(company: Any) -> None:
    key = object_key(VOICE, company, SneakyStr("abc-123"), WHEN)
    assert key == "company_5/voice/2026/01/15/abc-123.mp3"
    meta = object_metadata(SneakyStr("abc-123"), company, SneakyStr("dom"), SneakyStr("sec"))
    assert meta[META_COMPANY_ID] == "5" and meta[META_CALL_UUID] == "abc-123"
    assert all(type(v) is str and ".." not in v for v in meta.values())


def test_bool_company_ids_stay_refused() -> None:
    with pytest.raises(InvalidInputError, match="company_id"):
        object_key(VOICE, True, "abc", WHEN)


# -- transcripts ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["ol\udce1", "\ud800", "a\udfffb"])
def test_a_transcript_with_a_lone_surrogate_is_refused_clearly(text: str, tmp_path: Path) -> None:
    uploader = offline_uploader(tmp_path / "spool")
    with pytest.raises(InvalidInputError, match="valid Unicode text"):
        uploader.upload_transcript(text, call_uuid="abc-123", company_id=5, when=WHEN)
    # The ids are checked first: a bad id is reported as such, whatever the text.
    with pytest.raises(InvalidInputError, match="call_uuid"):
        uploader.upload_transcript(text, call_uuid="../x", company_id=5, when=WHEN)


def test_memoryview_of_wide_items_is_sized_in_bytes(tmp_path: Path) -> None:
    uploader = offline_uploader(tmp_path / "spool")  # nothing listens: the body goes to the spool
    body = memoryview(bytearray(range(256)) * 4).cast("I")  # 256 items of 4 bytes
    result = uploader.upload(TRANSCRIPT, body, call_uuid="abc-123", company_id=5, when=WHEN)
    assert result.spooled and result.size == 1024
    entry = uploader.spool.read(uploader.spool.entries()[0])  # type: ignore[union-attr]
    assert entry.size == 1024  # replayable: the body on disk has that many bytes


# -- settings: URLs --------------------------------------------------------------------------


def from_env(**values: str) -> StorageSettings:
    return StorageSettings.from_env({**BASE, **values})


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        (f"AK:{SECRET}@storage.netplay.net.br:9000", "must not carry credentials"),
        (f"https://AK:{SECRET}@storage.netplay.net.br", "must not carry credentials"),
        (f"AK:{SECRET}@[::1]:9000", "must not carry credentials"),
        ("storage.netplay.net.br?x=1", "query or fragment"),
        ("https://storage.netplay.net.br/?", "query or fragment"),
        ("storage.netplay.net.br#top", "query or fragment"),
        ("storage.netplay.net.br:", "invalid port"),
        ("storage.netplay.net.br:0", "invalid port"),
        ("storage.netplay.net.br:65536", "invalid port"),
        ("storage.netplay.net.br:\uff19\uff10\uff10\uff10", "invalid port"),
        ("[::1", "malformed IPv6"),
        ("[::1]9000", "malformed IPv6"),
        ("[not-an-ip]:9000", "malformed IPv6"),
        ("::1", "without brackets"),
        ("storage..netplay", "host name or IP address"),
        ("https://", "host name or IP address"),
    ],
)
def test_bad_endpoints_are_config_errors_that_never_echo_credentials(
    endpoint: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        from_env(MINIO_ENDPOINT=endpoint)
    assert SECRET not in str(caught.value) and "AK:" not in str(caught.value)


@pytest.mark.parametrize(
    ("public_url", "message"),
    [
        (f"https://AK:{SECRET}@cdn.netplay.net.br", "must not carry credentials"),
        ("https://cdn.netplay.net.br/?q", "query or fragment"),
        ("https://cdn.netplay.net.br#f", "query or fragment"),
        ("https://cdn.netplay.net.br:", "invalid port"),
        ("https://cdn.netplay.net.br:70000", "invalid port"),
        ("https://[fe80::1", "malformed IPv6"),
        ("https://cdn.netplay.net.br/storage", "has a path"),
    ],
)
def test_bad_public_urls_are_refused_at_start_up(public_url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        from_env(MINIO_ENDPOINT="storage.netplay.net.br", MINIO_PUBLIC_URL=public_url)
    assert SECRET not in str(caught.value)
    with pytest.raises(ConfigError, match=message):  # built directly: the same rules
        StorageSettings(endpoint="storage.netplay.net.br", access_key="a", secret_key="b",
                        public_url=public_url)  # fmt: skip


def test_a_public_url_path_is_fine_for_public_links() -> None:
    s = from_env(
        MINIO_ENDPOINT="[::1]:9000",
        MINIO_PUBLIC_URL="https://cdn.netplay.net.br/storage/",
        MINIO_URL_MODE="public",
    )
    assert (s.endpoint_url, s.public_url) == (
        "https://[::1]:9000",
        "https://cdn.netplay.net.br/storage",
    )


_TEXT = st.text(
    alphabet=st.sampled_from([*"ab1:/@?#[]%. -_", "\x00", "\xe9", "\uff19"]), max_size=30
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(["", "http://", "https://", "ftp://"]), body=_TEXT, url=_TEXT)
def test_any_endpoint_or_public_url_is_accepted_or_a_config_error(
    prefix: str, body: str, url: str
) -> None:
    """Never a traceback, never a URL with user-info, never the user-info in the message."""
    for value in (prefix + body, f"{prefix}AK:{SECRET}@{body}"):
        for public in ("", f"https://{url}", f"https://AK:{SECRET}@{url}"):
            try:
                s = from_env(MINIO_ENDPOINT=value, MINIO_PUBLIC_URL=public)
            except ConfigError as exc:
                assert SECRET not in str(exc)
                continue
            for made in (s.endpoint_url, s.public_url):
                assert "@" not in made and "?" not in made and "#" not in made


def test_cli_exits_2_on_every_bad_url_and_hides_the_secret() -> None:
    out = io.StringIO()
    env = {**BASE, Env.ENDPOINT: f"AK:{SECRET}@storage.netplay.net.br:9000"}
    assert cli.main(["url", "company_5/voice/2026/01/15/a.mp3"], env, out) == cli.EXIT_USAGE
    assert SECRET not in out.getvalue() and "must not carry credentials" in out.getvalue()
    out = io.StringIO()
    env = {**BASE, Env.ENDPOINT: "[::1"}
    assert cli.main(["check"], env, out) == cli.EXIT_USAGE
    assert "malformed IPv6" in out.getvalue()


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon", "nan"])
def test_a_bad_upload_deadline_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="MINIO_UPLOAD_DEADLINE must"):
        from_env(MINIO_ENDPOINT="storage.netplay.net.br", MINIO_UPLOAD_DEADLINE=value)


def test_upload_deadline_from_the_environment() -> None:
    s = from_env(MINIO_ENDPOINT="storage.netplay.net.br", MINIO_UPLOAD_DEADLINE="7.5")
    assert s.upload_deadline == 7.5
    assert (
        from_env(MINIO_ENDPOINT="storage.netplay.net.br").upload_deadline == DEFAULT_UPLOAD_DEADLINE
    )


def test_redact_url_hides_user_info_and_query() -> None:
    assert redact_url(f"https://AK:{SECRET}@h:1/p") == "https://***@h:1/p"
    assert redact_url(f"AK:{SECRET}@h") == "***@h"
    assert redact_url("https://h/p?X-Amz-Signature=abc") == "https://h/p?..."


@pytest.mark.parametrize("key", ["endpoint", "publicUrl"])
def test_stack_config_errors_do_not_echo_credentials(key: str) -> None:
    value = (
        f"AK:{SECRET}@storage.netplay.net.br"
        if key == "endpoint"
        else f"https://AK:{SECRET}@cdn.netplay.net.br"
    )
    raw = {full_key("endpoint"): "storage.netplay.net.br", full_key(key): value}
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(raw)
    assert SECRET not in str(caught.value) and "***@" in str(caught.value)


# -- CLI inputs ----------------------------------------------------------------------------

CLI_ENV = {**BASE, Env.ENDPOINT: "127.0.0.1:9", Env.USE_SSL: "false", Env.SPOOL_DIR: "off"}


def voice_recordings(*args: str, stdin: Any = None, env: dict[str, str] | None = None) -> Any:
    """The installed ``voice-recordings`` command, as a user runs it."""
    command = Path(sys.executable).with_name("voice-recordings")
    return run_command(
        [str(command), *args], cwd=Path.cwd(), env={**os.environ, **(env or CLI_ENV)}, stdin=stdin
    )


def upload_path(path: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["upload", path, "--company", "5", "--call", "a"], CLI_ENV, io.StringIO())
    return code, capsys.readouterr().err


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_cli_refuses_devices(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = upload_path(device, capsys)
    assert code == cli.EXIT_USAGE
    assert "not a regular file or a pipe (a character device)" in err


def test_cli_refuses_a_directory_and_a_socket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upload_path(str(tmp_path), capsys)[0] == cli.EXIT_USAGE
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        code, err = upload_path(str(path), capsys)
    assert code == cli.EXIT_USAGE and "No such device" in err  # open() itself refuses it


def test_cli_refuses_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.mp3"
    empty.touch()
    code, err = upload_path(str(empty), capsys)
    assert code == cli.EXIT_USAGE and "is empty" in err


def test_cli_refuses_a_device_or_nothing_on_stdin() -> None:
    with open("/dev/zero", "rb") as zero:
        done = voice_recordings("upload", "-", "--company", "5", "--call", "a", stdin=zero)
    assert done.returncode == cli.EXIT_USAGE
    assert "standard input is not a regular file" in done.stderr
    read_end, write_end = os.pipe()
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        done = voice_recordings("upload", "-", "--company", "5", "--call", "a", stdin=pipe)
    assert done.returncode == cli.EXIT_USAGE and "standard input is empty" in done.stderr


def test_cli_accepts_a_pipe(tmp_path: Path) -> None:
    """A pipe with bytes passes the input checks (here it is spooled: no server listens)."""
    env = {**CLI_ENV, Env.SPOOL_DIR: str(tmp_path / "spool"), Env.MAX_ATTEMPTS: "1"}
    read_end, write_end = os.pipe()
    os.write(write_end, b"ID3 audio")
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        done = voice_recordings("upload", "-", "--company", "5", "--call", "a", stdin=pipe, env=env)
    assert done.returncode == cli.EXIT_SPOOLED, done.stderr
