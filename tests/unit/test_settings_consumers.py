"""Every setting is checked against the rules of what consumes it (issue 19.2).

The region against botocore's own rule (a client is built from whatever is accepted), the bucket
against S3's full naming rules, numbers in ASCII digits only, the spool as an absolute path after
expansion (a relative XDG_STATE_HOME ignored, as the XDG rule says); and whatever fails while
reading a setting is a ConfigError naming it, never a traceback (``check`` exits 2).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from voice_recordings import ConfigError, StorageSettings, cli
from voice_recordings.bucket_names import RESERVED_PREFIXES, RESERVED_SUFFIXES
from voice_recordings.client import make_s3_client
from voice_recordings.settings import Env, default_spool_dir

BASE = {
    Env.ENDPOINT: "storage.example.net",
    Env.ACCESS_KEY: "AKIAEXAMPLE",
    Env.SECRET_KEY: "unit-test-secret-not-real",
    Env.SPOOL_DIR: "off",
}
NUMBER_VARS = (
    Env.PRESIGN_EXPIRES,
    Env.CONNECT_TIMEOUT,
    Env.READ_TIMEOUT,
    Env.MAX_ATTEMPTS,
    Env.UPLOAD_DEADLINE,
)


def refused(name: str, value: str, **extra: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        StorageSettings.from_env({**BASE, name: value, **extra})
    assert str(caught.value).startswith(name), caught.value
    return caught.value


def check_exit(env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(["check"], env, out), out.getvalue()


def consumed(s: StorageSettings) -> None:
    """What the uploader does with settings before any request: build clients, sign a URL."""
    client = make_s3_client(s)
    client.generate_presigned_url("get_object", Params={"Bucket": s.bucket, "Key": "k"})
    client.close()


# -- region: botocore's rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "region",
    ["us-east-1\u200b", "us east 1", "us-east-1\u00a0x", "-us-east", "us-east-", "123", "a" * 64,
     "us_east_1", "üs-east-1", "us-east-1\n-x"],
)  # fmt: skip
def test_a_region_botocore_refuses_is_a_config_error_and_check_says_fail_settings(
    region: str,
) -> None:
    refused(Env.REGION, region)
    code, out = check_exit({**BASE, Env.REGION: region})
    assert code == cli.EXIT_USAGE and out.startswith("FAIL settings      MINIO_REGION")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region=st.text(min_size=1, max_size=70))
def test_property_an_accepted_region_is_one_botocore_builds_a_client_for(region: str) -> None:
    try:
        s = StorageSettings.from_env({**BASE, Env.REGION: region})
    except ConfigError as exc:
        assert str(exc).startswith(Env.REGION)
        return
    consumed(s)


# -- bucket: the S3 naming rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bucket",
    ["192.168.1.1", "10.0.0.255", "a..b", "a.-b", "a-.b", "ab", "a" * 64, "Voice-Recordings",
     "-abc", "abc.", "voice_recordings", "voice-recordings\u200b",
     *(f"{prefix}abc" for prefix in RESERVED_PREFIXES),
     *(f"abc{suffix}" for suffix in RESERVED_SUFFIXES)],
)  # fmt: skip
def test_a_bucket_name_s3_refuses_is_a_config_error(bucket: str) -> None:
    refused(Env.BUCKET, bucket)


@given(address=st.ip_addresses(v=4))
def test_property_no_ipv4_address_is_a_bucket_name(address: object) -> None:
    refused(Env.BUCKET, str(address))


@pytest.mark.parametrize("bucket", ["voice-recordings", "a.b.c", "1.2.3", "abc", "a" * 63])
def test_valid_bucket_names_pass(bucket: str) -> None:
    assert StorageSettings.from_env({**BASE, Env.BUCKET: bucket}).bucket == bucket


# -- numbers: ASCII digits only --------------------------------------------------------------------


# Arabic-Indic and fullwidth digits, an underscore, an exponent, inf/nan, a sign, hex.
NOT_ASCII_DIGITS = ("\u0663", "\uff13", "1_0", "1e1", "inf", "nan", "+3", "0x10", "3.5.1")


@pytest.mark.parametrize("name", NUMBER_VARS)
@pytest.mark.parametrize("value", NOT_ASCII_DIGITS)
def test_numbers_in_anything_but_ascii_digits_are_refused(name: str, value: str) -> None:
    refused(name, value)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(NUMBER_VARS), value=st.text(min_size=1, max_size=8))
def test_property_an_accepted_number_was_written_in_ascii_digits(name: str, value: str) -> None:
    try:
        StorageSettings.from_env({**BASE, name: value})
    except ConfigError as exc:
        assert str(exc).startswith(name)
        return
    assert set(value.strip()) <= set("0123456789.")


# -- the spool path --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["~nosuchuser/x", "~no-such-user-either", "relative/spool"])
def test_a_spool_dir_that_is_not_absolute_after_expansion_is_a_config_error(value: str) -> None:
    refused(Env.SPOOL_DIR, value)
    code, out = check_exit({**BASE, Env.SPOOL_DIR: value})
    assert code == cli.EXIT_USAGE and out.startswith("FAIL settings      MINIO_SPOOL_DIR")


@pytest.mark.parametrize("state", ["state", "./state", "../x", "~/state"])
def test_a_relative_xdg_state_home_is_ignored(tmp_path: Path, state: str) -> None:
    env = {**BASE, "HOME": str(tmp_path), "XDG_STATE_HOME": state}
    del env[Env.SPOOL_DIR]
    s = StorageSettings.from_env(env)
    assert s.spool_dir == tmp_path / ".local" / "state" / "voice-recordings" / "spool"
    assert s.spool_dir == default_spool_dir(env)


def test_an_absolute_xdg_state_home_is_used(tmp_path: Path) -> None:
    env = {k: v for k, v in BASE.items() if k != Env.SPOOL_DIR}
    s = StorageSettings.from_env({**env, "XDG_STATE_HOME": str(tmp_path)})
    assert s.spool_dir == tmp_path / "voice-recordings" / "spool"


# -- nothing but a ConfigError ---------------------------------------------------------------------

ANY_SETTING = st.sampled_from(
    [
        Env.ENDPOINT, Env.BUCKET, Env.USE_SSL, Env.REGION, Env.PUBLIC_URL, Env.URL_MODE,
        Env.CA_BUNDLE, Env.SPOOL_DIR, Env.ACCESS_KEY, Env.SECRET_KEY, *NUMBER_VARS,
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(ANY_SETTING, st.text(max_size=40), min_size=1, max_size=4))
# Hosts botocore refuses when the client is built (is_valid_endpoint_url: no '_' anywhere).
@example(values={Env.ENDPOINT: "_"})
@example(values={Env.ENDPOINT: "minio_1:9000"})
def test_property_reading_settings_raises_only_config_errors_and_what_passes_is_usable(
    values: dict[str, str],
) -> None:
    env = {**BASE, **values}
    try:
        s = StorageSettings.from_env(env)
    except ConfigError as exc:
        assert BASE[Env.SECRET_KEY] not in str(exc)
        return
    consumed(s)


@pytest.mark.parametrize("name", [Env.ACCESS_KEY, Env.SECRET_KEY])
@pytest.mark.parametrize("value", ["AKIA EXAMPLE", "s\u00e9cret-value", "key\u200bvalue", "a\tb"])
def test_keys_the_signer_cannot_carry_are_refused_without_echoing_a_secret(
    name: str, value: str
) -> None:
    error = refused(name, value)
    if name == Env.SECRET_KEY:
        assert value not in str(error)
