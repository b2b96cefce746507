"""Settings from the environment: defaults, booleans, endpoints and clear errors."""

from __future__ import annotations

import dataclasses
import string
from pathlib import Path
from typing import Final

import pytest

from devtools.endpoint.tls import ThrowawayCA
from infra.provider_contract import env_variables
from voice_recordings import DEFAULT_BUCKET, DEFAULT_REGION, ConfigError, Env, StorageSettings
from voice_recordings.settings import (
    MAX_PRESIGN_SECONDS,
    MISSING_KEYS_MESSAGE,
    SETTING_NAMES,
    SETTINGS,
)

SECRET = "s3cr3t-value-never-printed"
BASE = {
    Env.ENDPOINT: "storage.netplay.net.br",
    Env.ACCESS_KEY: "voice-ai",
    Env.SECRET_KEY: SECRET,
}


def settings(**extra: str) -> StorageSettings:
    return StorageSettings.from_env({**BASE, **extra})


def test_specification_env_block() -> None:
    s = settings(
        MINIO_BUCKET="voice-recordings",
        MINIO_USE_SSL="true",
        MINIO_REGION="us-east-1",
        MINIO_PUBLIC_URL="https://storage.netplay.net.br",
    )
    assert s.endpoint == "storage.netplay.net.br"
    assert s.endpoint_url == "https://storage.netplay.net.br"
    assert s.public_url == "https://storage.netplay.net.br"
    assert (s.bucket, s.use_ssl, s.region) == ("voice-recordings", True, "us-east-1")


def test_defaults() -> None:
    s = settings()
    assert s.bucket == DEFAULT_BUCKET
    assert s.use_ssl is True
    assert s.region == DEFAULT_REGION
    assert s.url_mode == "presigned"
    assert s.presign_expires == MAX_PRESIGN_SECONDS
    assert s.public_url == "https://storage.netplay.net.br"


@pytest.mark.parametrize("missing", [Env.ACCESS_KEY, Env.SECRET_KEY])
def test_missing_keys_use_the_specification_message(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=MISSING_KEYS_MESSAGE):
        StorageSettings.from_env(env)
    with pytest.raises(ConfigError, match="MINIO_ACCESS_KEY or MINIO_SECRET_KEY not configured"):
        StorageSettings.from_env({**env, missing: "  "})


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("Yes", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("NO", False),
    ],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert settings(MINIO_USE_SSL=raw).use_ssl is expected


def test_bad_boolean_names_the_variable() -> None:
    with pytest.raises(
        ConfigError, match="MINIO_USE_SSL must be true/false/1/0/yes/no, got 'maybe'"
    ):
        settings(MINIO_USE_SSL="maybe")


def test_endpoint_with_scheme_is_normalized() -> None:
    s = settings(MINIO_ENDPOINT="http://localhost:9000/")
    assert (s.endpoint, s.use_ssl, s.endpoint_url) == (
        "localhost:9000",
        False,
        "http://localhost:9000",
    )
    assert settings(MINIO_ENDPOINT="https://storage.netplay.net.br").use_ssl is True


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("https://storage.netplay.net.br/voice-recordings", "without a path"),
        ("storage.netplay.net.br/voice-recordings", "without a path"),
        ("ftp://storage.netplay.net.br", "scheme must be http or https"),
        ("https://user:pw@storage.netplay.net.br", "must not carry credentials"),
        ("storage.netplay.net.br:99999", "invalid port"),
        ("", "MINIO_ENDPOINT not configured"),
    ],
)
def test_bad_endpoints_say_what_is_wrong(endpoint: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(MINIO_ENDPOINT=endpoint)


def test_scheme_contradicting_use_ssl_is_refused() -> None:
    with pytest.raises(ConfigError, match="drop the scheme or make them agree"):
        settings(MINIO_ENDPOINT="http://storage.netplay.net.br", MINIO_USE_SSL="true")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (Env.BUCKET, "Voice_Recordings", "MINIO_BUCKET must be 3 to 63 lowercase"),
        (Env.PUBLIC_URL, "storage.netplay.net.br", "MINIO_PUBLIC_URL must be an http"),
        (Env.URL_MODE, "signed", "MINIO_URL_MODE must be presigned or public"),
        (Env.PRESIGN_EXPIRES, "0", "MINIO_PRESIGN_EXPIRES must be from 1 to 604800"),
        (Env.PRESIGN_EXPIRES, str(MAX_PRESIGN_SECONDS + 1), "MINIO_PRESIGN_EXPIRES must be"),
        (Env.PRESIGN_EXPIRES, "1h", "MINIO_PRESIGN_EXPIRES must be a whole number"),
        (Env.CONNECT_TIMEOUT, "-1", "MINIO_CONNECT_TIMEOUT must be"),
        (Env.MAX_ATTEMPTS, "many", "MINIO_MAX_ATTEMPTS must be a whole number"),
        (Env.CA_BUNDLE, "/nonexistent/ca.pem", "MINIO_CA_BUNDLE must name a readable PEM file"),
        (Env.CA_BUNDLE, "/etc/hostname", "MINIO_CA_BUNDLE must name a readable PEM file"),
    ],
)
def test_bad_settings_name_the_variable_and_rule(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**{name: value})


def test_optional_settings(tmp_path: Path) -> None:
    ca = ThrowawayCA(tmp_path).ca_path  # a real PEM: the ssl module must load it
    s = settings(
        MINIO_URL_MODE="PUBLIC",
        MINIO_PRESIGN_EXPIRES="3600",
        MINIO_CA_BUNDLE=str(ca),
        MINIO_CONNECT_TIMEOUT="2.5",
        MINIO_MAX_ATTEMPTS="5",
        MINIO_PUBLIC_URL="https://cdn.netplay.net.br/",
    )
    assert (s.url_mode, s.presign_expires, s.ca_bundle) == ("public", 3600, str(ca))
    assert (s.connect_timeout, s.max_attempts) == (2.5, 5)
    assert s.public_url == "https://cdn.netplay.net.br"


def test_secret_never_in_repr_or_errors() -> None:
    s = settings()
    assert SECRET not in repr(s)
    with pytest.raises(ConfigError) as caught:
        settings(MINIO_USE_SSL="maybe")
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("stray", "meant"),
    [
        ("MINIO_SECERT_KEY", "MINIO_SECRET_KEY"),
        ("MINIO_ACESS_KEY", "MINIO_ACCESS_KEY"),
        ("MINIO_UPLOAD_DEADLNE", "MINIO_UPLOAD_DEADLINE"),
        ("MINIO_REGOIN", "MINIO_REGION"),
    ],
)
def test_a_misspelt_setting_is_named_with_the_one_meant(stray: str, meant: str) -> None:
    env = {
        Env.ENDPOINT: "storage.example.net",
        Env.ACCESS_KEY: "AKIAEXAMPLE",
        Env.SECRET_KEY: "unit-test-secret-not-real",
    }
    env.pop(meant, None)
    env[stray] = "value-never-echoed"
    with pytest.raises(ConfigError, match=f"{stray} is not a setting: did you mean {meant}") as e:
        StorageSettings.from_env(env)
    assert "value-never-echoed" not in str(e.value)
    # The provider's own variables beside the runtime's are no misspellings.
    env.pop(stray)
    env.setdefault(meant, "AKIAEXAMPLE" if "KEY" in meant else "1")
    StorageSettings.from_env(
        {**env, Env.REGION: "us-east-1", "MINIO_USER": "a", "MINIO_PASSWORD": "b"}
    )


# Every character a one-edit typo may bring in: what a name is made of, a '-' (an env file
# takes it), and lower case (an env name is case-sensitive, so `MINIO_BUCKEt` is another name).
TYPO_ALPHABET: Final = string.ascii_uppercase + string.digits + "_-" + string.ascii_lowercase


def one_edit_typos(name: str) -> set[str]:
    """Every name one deletion, swap of neighbours, replacement or insertion from ``name``."""
    splits = [(name[:i], name[i:]) for i in range(len(name) + 1)]
    deleted = {head + tail[1:] for head, tail in splits if tail}
    swapped = {head + tail[1] + tail[0] + tail[2:] for head, tail in splits if len(tail) > 1}
    replaced = {head + c + tail[1:] for head, tail in splits if tail for c in TYPO_ALPHABET}
    inserted = {head + c + tail for head, tail in splits for c in TYPO_ALPHABET}
    return (deleted | swapped | replaced | inserted) - {name}


@pytest.mark.parametrize("meant", sorted(SETTING_NAMES))
def test_every_one_edit_typo_of_every_setting_names_the_setting(meant: str) -> None:
    missed = []
    typos = one_edit_typos(meant) - SETTING_NAMES
    for typo in sorted(typos):
        env = {k: v for k, v in BASE.items() if k != meant}
        env[typo] = "value-never-echoed"
        try:
            StorageSettings.from_env(env)
        except ConfigError as exc:
            message = str(exc)
            if message.startswith(f"{typo} is not a setting: did you mean {meant}?"):
                assert "value-never-echoed" not in message
                continue
        missed.append(typo)
    assert not missed, f"{len(missed)} of {len(typos)} typos of {meant} not named: {missed[:10]}"


def test_a_setting_in_the_wrong_case_is_named_as_case_sensitive() -> None:
    with pytest.raises(ConfigError, match=r"did you mean MINIO_BUCKET\? \(names are case-sens"):
        settings(minio_bucket="voice-recordings")


def test_the_providers_variables_and_a_set_setting_are_no_misspelling() -> None:
    # Beside the runtime's own, a deploying shell holds the provider's variables.
    provider = {name: "x" for name in env_variables().values() if name not in SETTING_NAMES}
    assert "MINIO_USER" in provider and "MINIO_CACERT_FILE" in provider
    assert settings(**provider).endpoint == BASE[Env.ENDPOINT]
    # A near name beside the setting it is near: the setting is read, the other left alone.
    assert settings(MINIO_BUCKET="voice-recordings", MINIO_BUCKETS="x").bucket == DEFAULT_BUCKET


def test_the_table_declares_every_variable_and_every_field_once() -> None:
    names = [setting.name for setting in SETTINGS]
    fields = [setting.field for setting in SETTINGS]
    env_names = [value for attr, value in vars(Env).items() if attr.isupper()]
    assert sorted(names) == sorted(env_names) and len(set(names)) == len(names)
    assert sorted(fields) == sorted(f.name for f in dataclasses.fields(StorageSettings))
    assert all(setting.description and "\n" not in setting.description for setting in SETTINGS)
    assert frozenset(names) == SETTING_NAMES
