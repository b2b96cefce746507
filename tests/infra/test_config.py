"""Stack config validation: defaults, typed values, and one-line errors naming the full key."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.config import (
    COMPANY_RETENTION_KEY,
    KNOWN_KEYS,
    MASK,
    SECRET_KEYS,
    SERVICE_TOKEN_KEY,
    StackConfig,
    StackConfigError,
    full_key,
    parse_stack_config,
)
from infra.identities import READER, UPLOADER
from infra.provider_values import LIFECYCLE_MAX_RULES
from infra.stack_file import load_stack_config
from tests.docs import OPERATING, read
from tests.support import MINIMAL_STACK_CONFIG
from voice_recordings import DEFAULT_BUCKET, DEFAULT_REGION

ENDPOINT = MINIMAL_STACK_CONFIG
TOKEN_KEY = full_key(SERVICE_TOKEN_KEY)


def test_defaults_are_the_secure_choices() -> None:
    config = parse_stack_config(ENDPOINT)
    assert config.bucket == DEFAULT_BUCKET
    assert config.region == DEFAULT_REGION
    assert config.ssl is True
    assert config.public_url == "https://storage.example.net"
    assert config.public_recordings is False
    assert config.anonymous_recordings is False
    assert config.omniplay_reader is True
    assert (
        config.identity(UPLOADER).user,
        config.identity(UPLOADER).service_account,
        config.identity(UPLOADER).policy,
    ) == (
        "voice-ai-service",
        "voice-ai-realtime",
        "voice-ai-policy",
    )
    assert config.identity(READER).user == "omniplay-reader"


def test_values_are_typed_and_keys_outside_the_namespace_are_ignored() -> None:
    config = parse_stack_config(
        {
            **ENDPOINT,
            "voice-recordings:ssl": "false",
            "voice-recordings:recordingRetentionDays": "90",
            "voice-recordings:omniplayReader": "false",
            "minio:minioUser": "admin",
            "pulumi:disable-default-providers": '["minio"]',
        }
    )
    assert config.ssl is False
    assert config.public_url == "http://storage.example.net"
    assert config.recording_retention_days == 90
    assert config.omniplay_reader is False


def test_the_config_is_frozen() -> None:
    config = parse_stack_config(ENDPOINT)
    with pytest.raises(AttributeError):
        config.bucket = "other"  # type: ignore[misc]


def test_to_json_names_every_known_key_and_a_secret_only_masked_when_set() -> None:
    secret = {full_key(key) for key in SECRET_KEYS}
    assert sorted(parse_stack_config(ENDPOINT).to_json()) == sorted(set(KNOWN_KEYS) - secret)
    token = "adopted-token-0123456789"
    config = parse_stack_config({**ENDPOINT, TOKEN_KEY: token}, secret_keys=[TOKEN_KEY])
    assert config.service_token == token
    assert config.to_json()[TOKEN_KEY] == MASK
    assert token not in repr(config) and token not in str(config.to_json())


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("recordingRetentionDays", "-3", "whole number of days >= 1"),
        ("transcriptRetentionDays", "0", "whole number of days >= 1"),
        ("noncurrentVersionExpirationDays", "7.5", "whole number of days >= 1"),
        ("recordingRetentionDays", "a year", "whole number of days >= 1"),
        ("bucket", "Voice_Recordings", "S3 bucket name"),
        ("endpoint", "https://storage.example.net/minio", "host[:port]"),
        ("endpoint", "storage.example.net:99999", "invalid port"),
        ("ssl", "yes", "true or false"),
        ("omniplayReader", "maybe", "true or false"),
        ("publicUrl", "ftp://storage.example.net", "http(s) URL"),
        ("publicUrl", "https://storage.example.net\nMINIO_URL_MODE=public", "must not contain"),
        ("endpoint", "storage.example.net\nMINIO_BUCKET=x", "host[:port]"),
        ("uploaderUser", "a b", "letters, digits"),
        ("region", "US East", "region name"),
        ("encryptionKeyId", "my key", "name of a key on the server's KMS"),
        ("caBundle", "certs/ca.pem", "absolute path of a PEM file"),
        ("caBundle", "/etc/ssl/my ca.pem", "absolute path of a PEM file"),
    ],
)
def test_a_bad_value_names_the_full_key_the_rule_and_the_value(
    key: str, value: str, rule: str
) -> None:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config({**ENDPOINT, f"voice-recordings:{key}": value})
    message = str(caught.value)
    assert message.startswith(f"voice-recordings:{key} ")
    assert rule in message
    assert repr(value) in message
    assert "\n" not in message


def test_an_unknown_key_fails_and_suggests_the_closest() -> None:
    with pytest.raises(
        StackConfigError,
        match=r"recordingRetentionDay\b.*did you mean "
        r"voice-recordings:recordingRetentionDays\?",
    ):
        parse_stack_config({**ENDPOINT, "voice-recordings:recordingRetentionDay": "30"})


def test_a_far_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(StackConfigError, match=r"known keys: .*voice-recordings:bucket"):
        parse_stack_config({**ENDPOINT, "voice-recordings:zzz": "1"})


def test_the_endpoint_is_required() -> None:
    with pytest.raises(StackConfigError, match="voice-recordings:endpoint is required"):
        parse_stack_config({})


def test_public_recordings_need_the_acknowledgement() -> None:
    with pytest.raises(StackConfigError, match="voice-recordings:acknowledgePublicRecordings"):
        parse_stack_config({**ENDPOINT, "voice-recordings:publicRecordings": "true"})
    acknowledged = parse_stack_config(
        {
            **ENDPOINT,
            "voice-recordings:publicRecordings": "true",
            "voice-recordings:acknowledgePublicRecordings": "true",
        }
    )
    assert acknowledged.anonymous_recordings


def test_the_acknowledgement_alone_opens_nothing() -> None:
    config = parse_stack_config(
        {**ENDPOINT, "voice-recordings:acknowledgePublicRecordings": "true"}
    )
    assert not config.anonymous_recordings


def test_a_ca_bundle_needs_tls() -> None:
    with pytest.raises(
        StackConfigError, match="voice-recordings:caBundle needs voice-recordings:ssl"
    ):
        parse_stack_config(
            {**ENDPOINT, "voice-recordings:ssl": "false", "voice-recordings:caBundle": "/ca.pem"}
        )
    assert parse_stack_config({**ENDPOINT, "voice-recordings:caBundle": "/ca.pem"}).ca_bundle


def test_uploader_and_reader_must_be_different_users() -> None:
    with pytest.raises(StackConfigError, match="voice-recordings:readerUser must differ"):
        parse_stack_config({**ENDPOINT, "voice-recordings:readerUser": "voice-ai-service"})


@pytest.mark.parametrize("kind", ["User", "Policy", "ServiceAccount"])
@pytest.mark.parametrize("other", ["uploader", "reader"])
def test_the_observer_shares_no_name_with_another_identity(kind: str, other: str) -> None:
    taken = parse_stack_config(ENDPOINT).value(f"{other}{kind}")
    with pytest.raises(StackConfigError, match="must differ from"):
        parse_stack_config({**ENDPOINT, full_key(f"observer{kind}"): taken})


def test_the_omniplay_api_url_is_required() -> None:
    with pytest.raises(StackConfigError, match="voice-recordings:omniplayApiUrl is required"):
        parse_stack_config({"voice-recordings:endpoint": "storage.example.net"})


@pytest.mark.parametrize(
    "url",
    [
        "https://omniplay.netplay.net.br",
        "https://omniplay.example.net:8443/api/",
        "http://localhost:8080",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
    ],
)
def test_omniplay_api_url_accepts_https_and_local_http(url: str) -> None:
    config = parse_stack_config({**ENDPOINT, "voice-recordings:omniplayApiUrl": url})
    assert config.omniplay_api_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://omniplay.netplay.net.br", "https URL"),
        ("http://10.0.0.5:8080", "https URL"),
        ("http://localhost.evil.example", "https URL"),
        ("ftp://omniplay.example.net", "http\\(s\\) URL"),
        ("https://user:pw@omniplay.example.net", "must not carry credentials"),
        ("https://omniplay.example.net/?token=x", "must not have a query"),
        ("omniplay.example.net", "http\\(s\\) URL"),
        ("https://omniplay.example.net\nX=1", "must not contain spaces"),
    ],
)
def test_omniplay_api_url_refuses_plain_http_to_a_remote_host_and_bad_urls(
    url: str, rule: str
) -> None:
    with pytest.raises(StackConfigError, match=f"voice-recordings:omniplayApiUrl .*{rule}"):
        parse_stack_config({**ENDPOINT, "voice-recordings:omniplayApiUrl": url})


def test_the_service_token_in_plaintext_is_refused_naming_the_safer_way() -> None:
    raw = {**ENDPOINT, TOKEN_KEY: "adopted-token-0123456789"}
    with pytest.raises(StackConfigError, match="pulumi config set --secret") as caught:
        parse_stack_config(raw, secret_keys=[])
    assert "adopted-token-0123456789" not in str(caught.value)


def _refusal(token: str) -> str:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config({**ENDPOINT, TOKEN_KEY: token}, secret_keys=[TOKEN_KEY])
    return str(caught.value)


@given(st.text(min_size=1, max_size=80))
def test_a_bad_service_token_is_refused_without_echoing_it(token: str) -> None:
    raw = {**ENDPOINT, TOKEN_KEY: token}
    try:
        config = parse_stack_config(raw, secret_keys=[TOKEN_KEY])
    except StackConfigError as exc:
        # The message depends on the token's length only: the same as for blanks of that length.
        assert str(exc) == _refusal(" " * len(token))
        assert TOKEN_KEY in str(exc)
    else:
        assert len(token) >= 16 and config.service_token == token
        assert all(c.isascii() and (c.isalnum() or c in "._~+/=-") for c in token)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_each_stack_file_is_valid(stack: str) -> None:
    assert isinstance(parse_stack_config(load_stack_config(stack)), StackConfig)


def test_prod_and_dev_point_where_the_specification_says() -> None:
    prod = parse_stack_config(load_stack_config("prod"))
    assert (prod.endpoint, prod.ssl, prod.region, prod.bucket) == (
        "storage.netplay.net.br",
        True,
        "us-east-1",
        "voice-recordings",
    )
    dev = parse_stack_config(load_stack_config("dev"))
    assert (dev.endpoint, dev.ssl) == ("localhost:9000", False)


def test_overrides_win_over_the_stack_file_and_may_omit_the_namespace() -> None:
    raw = load_stack_config("prod", {"bucket": "other-bucket"})
    assert parse_stack_config(raw).bucket == "other-bucket"


def test_the_readme_config_table_lists_every_key() -> None:
    readme = read(OPERATING)
    missing = [key for key in KNOWN_KEYS if f"| `{key.split(':', 1)[1]}` |" not in readme]
    assert missing == []


# --- companyRetention (issue 20.5) -------------------------------------------------------------

RETENTION_KEY = full_key(COMPANY_RETENTION_KEY)


@pytest.mark.parametrize(
    ("value", "named", "rule"),
    [
        ('{"0": {"voice": 30}}', ".0:", "positive integer"),
        ('{"042": {"voice": 30}}', ".042:", "positive integer"),
        ('{"abc": {"voice": 30}}', ".abc:", "positive integer"),
        ('{"-5": {"voice": 30}}', ".-5:", "positive integer"),
        ('{"42": {"voice": -3}}', ".42.voice ", "whole number of days >= 1"),
        ('{"42": {"voice": 0}}', ".42.voice ", "whole number of days >= 1"),
        ('{"42": {"voice": 1.5}}', ".42.voice ", "whole number of days >= 1"),
        ('{"42": {"voice": true}}', ".42.voice ", "whole number of days >= 1"),
        ('{"42": {"voice": "ten"}}', ".42.voice ", "whole number of days >= 1"),
        ('{"42": {"voice": 99999}}', ".42.voice ", "at most 36500"),
        ('{"42": {"voce": 30}}', ".42.voce ", "did you mean 'voice'"),
        ('{"42": {}}', ".42 ", "at least one of"),
        ('{"42": 30}', ".42 ", "object of kind -> days"),
        ('{"42": {"voice": 30}, "42": {"voice": 60}}', ".42 ", "given twice"),
        ("[42]", " ", "object of company id"),
        ("not json", " ", "object of company id"),
    ],
)
def test_a_bad_company_retention_names_the_key_and_what_is_wrong(
    value: str, named: str, rule: str
) -> None:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config({**ENDPOINT, RETENTION_KEY: value})
    message = str(caught.value)
    assert message.startswith(RETENTION_KEY + named), message
    assert rule in message and "\n" not in message


def test_company_retention_fills_a_kind_left_out_with_the_stack_s_retention() -> None:
    config = parse_stack_config(
        {
            **ENDPOINT,
            full_key("transcriptRetentionDays"): "90",
            RETENTION_KEY: '{"42": {"voice": "1825"}, "7": {"transcript": 10, "voice": 20}}',
        }
    )
    assert config.own_retention() == {
        42: {"voice": 1825, "transcript": 90},
        7: {"voice": 20, "transcript": 10},
    }
    assert config.to_json()[RETENTION_KEY] == {
        "42": {"transcript": 90, "voice": 1825},
        "7": {"transcript": 10, "voice": 20},
    }


def test_company_retention_needing_more_rules_than_minio_takes_fails_naming_the_key() -> None:
    many = {str(10**17 + 7919 * n): {"voice": 30} for n in range(40)}
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config({**ENDPOINT, RETENTION_KEY: json.dumps(many)})
    assert str(caught.value).startswith(f"{RETENTION_KEY} needs ")
    assert f"more than the {LIFECYCLE_MAX_RULES} MinIO allows" in str(caught.value)


def test_a_stack_file_may_give_company_retention_as_an_object(tmp_path: Path) -> None:
    # `pulumi config set --path` writes an object; the render hands it over as JSON, as the
    # engine does.
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text(
        "config:\n"
        "  voice-recordings:endpoint: localhost:9000\n"
        "  voice-recordings:omniplayApiUrl: http://localhost:8080\n"
        "  voice-recordings:companyRetention:\n"
        '    "42":\n'
        "      voice: 1825\n"
    )
    with mock.patch("infra.stack_file.stack_file", return_value=stack):
        raw = load_stack_config("t")
    assert parse_stack_config(raw).own_retention()[42]["voice"] == 1825
