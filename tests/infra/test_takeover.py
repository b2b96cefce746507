"""The takeover's rules that need no server: which keys are recordings, what a policy grants to
anyone, and the adoption config keys."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.config import StackConfigError, full_key, parse_stack_config
from infra.takeover import anonymous_grants, expected_kind
from tests.support import MINIMAL_STACK_CONFIG
from voice_recordings import KINDS, InvalidInputError, parse_key
from voice_recordings.keys import TOKEN_PATTERN, object_key
from voice_recordings.permissions import PROBE_KEY

ENDPOINT = MINIMAL_STACK_CONFIG

calls = st.from_regex(TOKEN_PATTERN, fullmatch=True)
days = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@given(kind=st.sampled_from(sorted(KINDS)), company=st.integers(1, 10**12), call=calls, when=days)
def test_every_key_of_the_layout_has_the_kind_of_its_folder(
    kind: str, company: int, call: str, when: dt.datetime
) -> None:
    key = object_key(kind, company, call, when)  # type: ignore[arg-type]
    assert expected_kind(key) == kind


@given(key=st.text(max_size=200))
def test_any_other_key_is_outside_the_layout(key: str) -> None:
    try:
        kind = parse_key(key).kind
    except InvalidInputError:
        kind = None
    assert expected_kind(key) == ("transcript" if key == PROBE_KEY else kind)


@pytest.mark.parametrize(
    "key",
    [
        "teste-upload.mp3",
        "company_5/voice/2026/1/15/abc.mp3",  # unpadded month
        "company_0/voice/2026/01/15/abc.mp3",  # no company 0
        "company_5/voice/2026/01/15/abc.txt",  # a transcript's extension in voice/
        "company_5/voice/2026/02/30/abc.mp3",  # no such day
        "company_5/voice/2026/01/15/../abc.mp3",
    ],
)
def test_near_misses_are_outside_the_layout(key: str) -> None:
    assert expected_kind(key) is None


def test_the_check_probe_is_a_transcript() -> None:
    assert expected_kind(PROBE_KEY) == "transcript"


@pytest.mark.parametrize(
    "principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": ["arn:aws:iam::1:root", "*"]}]
)
def test_every_way_of_naming_anyone_is_anonymous(principal: object) -> None:
    policy = {
        "Statement": {
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        }
    }
    assert anonymous_grants(policy) == [
        {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"], "conditional": False}
    ]


def test_named_principals_and_denials_are_not_anonymous_grants() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:user/x"]}, "Action": "s3:*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        ]
    }
    assert anonymous_grants(policy) == []
    assert anonymous_grants(None) == []


def test_adoption_is_off_by_default_and_a_service_account_needs_it() -> None:
    config = parse_stack_config(ENDPOINT)
    assert (config.adopt_existing, config.adopt_service_account) == (False, "")
    adopted = parse_stack_config(
        {
            **ENDPOINT,
            full_key("adoptExisting"): "true",
            full_key("adoptServiceAccount"): "AKIAEXAMPLE123",
        }
    )
    assert adopted.adopt_existing and adopted.adopt_service_account == "AKIAEXAMPLE123"
    with pytest.raises(StackConfigError, match=r"adoptServiceAccount needs .*adoptExisting=true"):
        parse_stack_config({**ENDPOINT, full_key("adoptServiceAccount"): "AKIAEXAMPLE123"})


@pytest.mark.parametrize("value", ["ab", "has space", "new\nline", "a/b", "x" * 129])
def test_a_bad_service_account_key_names_the_key_and_the_rule(value: str) -> None:
    with pytest.raises(StackConfigError, match=r"voice-recordings:adoptServiceAccount must be"):
        parse_stack_config(
            {
                **ENDPOINT,
                full_key("adoptExisting"): "true",
                full_key("adoptServiceAccount"): value,
            }
        )
