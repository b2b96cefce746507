"""Adoption in the program: which resources carry Pulumi's ``import`` option, under the provider's
ids, what they ignore, and what ``voice_ai_env`` says when the console's account is adopted."""

from __future__ import annotations

import pytest

from infra.adoption import (
    ADOPT_OVERRIDES,
    EXAMPLE_CONSOLE_ACCESS_KEY,
    IMPORTED_IGNORE_CHANGES,
    split_attachment_id,
)
from infra.config import full_key
from infra.mocked_run import ProgramRun
from infra.render import render_stack
from infra.render_format import ATTACHMENT, BUCKET, IAM_POLICY, IAM_USER, SERVICE_ACCOUNT
from policies.guardrails.model import MANDATORY
from policies.guardrails.offline import check_render
from tests.support import PUBLIC_OPT_IN, STACKS, program_run
from voice_recordings import Env

ADOPT_USER_ONLY = {full_key("adoptExisting"): "true"}


def imports(run: ProgramRun) -> dict[str, str]:
    return {r.name: r.import_id for r in run.resources if r.import_id}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("extra", [{}, PUBLIC_OPT_IN], ids=["plain", "public"])
def test_without_adoption_nothing_is_imported(stack: str, extra: dict[str, str]) -> None:
    run = program_run(stack, extra)
    assert imports(run) == {}
    assert all(not r.retain_on_delete for r in run.resources if r.type == SERVICE_ACCOUNT)


@pytest.mark.parametrize("stack", STACKS)
def test_adoption_imports_the_hand_made_resources_under_the_providers_ids(stack: str) -> None:
    run = program_run(stack, ADOPT_OVERRIDES)
    config = run.config
    user, policy = config[full_key("uploaderUser")], config[full_key("uploaderPolicy")]
    by_type = {(r.type, r.import_id) for r in run.resources if r.import_id}
    assert by_type == {
        (BUCKET, config[full_key("bucket")]),
        (IAM_USER, user),
        (IAM_POLICY, policy),
        (ATTACHMENT, f"{user}/{policy}"),
        (SERVICE_ACCOUNT, EXAMPLE_CONSOLE_ACCESS_KEY),
    }
    attachment = next(r for r in run.resources if r.type == ATTACHMENT and r.import_id)
    assert split_attachment_id(attachment.import_id) == (
        attachment.inputs["userName"],
        attachment.inputs["policyName"],
    )
    # Versioning, lifecycle, the reader and the passwords are created as usual.
    created = {r.type.rsplit(":", 1)[-1] for r in run.resources if not r.import_id}
    assert {"S3BucketVersioning", "IlmPolicy", "RandomPassword"} <= created


def test_imported_resources_ignore_what_the_provider_cannot_read_back() -> None:
    run = program_run("prod", ADOPT_OVERRIDES)
    for resource in run.resources:
        if resource.import_id and resource.type in IMPORTED_IGNORE_CHANGES:
            assert set(IMPORTED_IGNORE_CHANGES[resource.type]) <= set(resource.ignore_changes)
    user = next(r for r in run.resources if r.type == IAM_USER and r.import_id)
    assert "secret" in user.ignore_changes  # the password someone chose is kept
    account = next(r for r in run.resources if r.type == SERVICE_ACCOUNT and r.import_id)
    assert account.retain_on_delete  # only an operator deletes the console's account
    reader = [r for r in run.resources if r.type == IAM_USER and not r.import_id]
    assert reader and all("secret" not in r.ignore_changes for r in reader)


def test_an_adopted_service_account_keeps_the_services_keys_in_voice_ai_env() -> None:
    run = program_run("prod", ADOPT_OVERRIDES)
    env = run.plain_outputs["voice_ai_env"]
    lines = env.splitlines()
    # No key lines at all (blank ones pasted over a working .env would stop the service) ...
    assert not [line for line in lines if line.startswith((Env.ACCESS_KEY, Env.SECRET_KEY))]
    # ... but a note that names the kept account, and every other setting.
    assert lines[0].startswith("#") and EXAMPLE_CONSOLE_ACCESS_KEY in lines[0]
    assert f"{Env.ENDPOINT}=storage.netplay.net.br" in lines
    assert "voice_ai_secret_key" not in run.plain_outputs
    assert run.plain_outputs["voice_ai_access_key"] == EXAMPLE_CONSOLE_ACCESS_KEY
    assert {"voice_ai_env", "voice_ai_access_key"} <= run.secret_outputs


def test_adopting_without_the_console_account_gives_the_service_new_keys() -> None:
    run = program_run("prod", ADOPT_USER_ONLY)
    account = next(r for r in run.resources if r.type == SERVICE_ACCOUNT and r.name)
    assert SERVICE_ACCOUNT not in {r.type for r in run.resources if r.import_id}
    assert not account.retain_on_delete
    env = run.plain_outputs["voice_ai_env"]
    assert f"{Env.ACCESS_KEY}=" in env and f"{Env.SECRET_KEY}=" in env
    assert not env.startswith("#")


def test_the_guardrails_accept_the_adopting_render_and_reject_a_widened_policy_in_it() -> None:
    render = render_stack("prod", ADOPT_OVERRIDES)
    assert [v.line() for v in check_render(render) if v.level == MANDATORY] == []
    uploader = next(r for r in render["resources"] if r.get("import") == "voice-ai-policy")
    uploader["inputs"]["policy"]["Statement"][0]["Action"].append("s3:DeleteObject")
    rules = {v.rule for v in check_render(render) if v.level == MANDATORY}
    assert "iam-least-privilege" in rules
