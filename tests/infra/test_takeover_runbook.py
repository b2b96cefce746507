"""The runbook "Taking over the hand-made storage" (docs/operating.md) matches the commands
exactly: every takeover command parses with the tool's own parser, every config key exists, the
replaced URN is the uploader account's, the import ids are the render's, the survey's mc commands
are named."""

from __future__ import annotations

import re
import shlex

import pytest

from infra.adoption import ADOPT_OVERRIDES
from infra.config import KNOWN_KEYS, full_key, parse_stack_config
from infra.render_format import SERVICE_ACCOUNT
from infra.stack_file import load_stack_config
from infra.takeover import build_parser, identity_commands
from tests.docs import OPERATING, bash_commands, section
from tests.support import program_run
from voice_recordings.settings import MAX_PRESIGN_SECONDS

SECTION = section(OPERATING, "Taking over the hand-made storage")
COMMANDS = bash_commands(SECTION)
EXAMPLE_KEY = "AKIAEXAMPLEKEY000001"


def concrete(line: str) -> str:
    """The command with its placeholders filled (comments dropped)."""
    return line.split("  #", 1)[0].replace("<console-access-key>", EXAMPLE_KEY)


def test_the_runbook_has_every_step_in_order() -> None:
    steps = [int(n) for n in re.findall(r"^\*\*(\d)\. ", SECTION, flags=re.M)]
    assert steps == list(range(1, 9))
    order = [
        "takeover survey",
        "pulumi config set voice-recordings:adoptExisting",
        "pulumi preview",
        "tag-existing --stack prod --apply",
        "pulumi up --replace",
        "voice-recordings check",
        "mc admin user svcacct rm",
        "pulumi config rm voice-recordings:adoptExisting",
    ]
    positions = [SECTION.index(text) for text in order]
    assert positions == sorted(positions)


@pytest.mark.parametrize("line", [c for c in COMMANDS if c.startswith("python -m infra.takeover")])
def test_takeover_commands_parse_with_the_tools_parser(line: str) -> None:
    args = build_parser().parse_args(shlex.split(concrete(line))[3:])
    overrides = dict(item for item in args.config)
    parse_stack_config(load_stack_config(args.stack, overrides))  # every key and value valid


@pytest.mark.parametrize("line", [c for c in COMMANDS if c.startswith("pulumi config")])
def test_config_commands_name_known_keys(line: str) -> None:
    key = shlex.split(concrete(line))[3]
    assert key in KNOWN_KEYS


def test_the_replaced_urn_is_the_uploader_service_account() -> None:
    (line,) = [c for c in COMMANDS if c.startswith("pulumi up --replace")]
    urn = shlex.split(line)[3]
    run = program_run("prod")
    account = run.config[full_key("uploaderServiceAccount")]
    assert urn == next(
        r.urn for r in run.resources if r.type == SERVICE_ACCOUNT and r.name == account
    )


def test_the_import_ids_named_are_the_renders() -> None:
    run = program_run("prod", ADOPT_OVERRIDES)
    for resource in run.resources:
        if resource.import_id and resource.type != SERVICE_ACCOUNT:
            assert f"`{resource.import_id}`" in SECTION, resource.name


def test_the_survey_mc_commands_and_the_presign_limit_are_named() -> None:
    config = parse_stack_config(load_stack_config("prod", ADOPT_OVERRIDES))
    for command in identity_commands(config):
        verb = " ".join(command["command"].split()[:4])  # e.g. "mc admin user info"
        verb = verb.replace("svcacct info", "svcacct").replace("svcacct ls", "svcacct")
        assert verb in SECTION, verb
    assert MAX_PRESIGN_SECONDS == 7 * 24 * 3600 and "at most 7 days" in SECTION
