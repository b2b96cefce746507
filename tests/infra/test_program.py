"""The Pulumi program under mocks, for each stack file: resources, inputs, options, outputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from infra import stack_file
from infra.config import SERVICE_TOKEN_KEY, StackConfigError, full_key, parse_stack_config
from infra.identities import OBSERVER, READER, UPLOADER
from infra.lifecycle_rules import DELETE_MARKER_RULE_ID
from infra.mocked_run import ProgramRun, run_program
from infra.policies import (
    OBSERVER_POLICY,
    PUBLIC_RECORDINGS_POLICY,
    READER_POLICY,
    UPLOADER_POLICY,
    load_policy,
)
from infra.program import (
    ADMIN_CONFIG_KEYS,
    ADMIN_PASSWORD_ENV,
    ADMIN_USER_ENV,
    OMNIPLAY_API_URL_ENV,
    OMNIPLAY_MINIO_PREFIX,
    OMNIPLAY_MINIO_VARS,
    PROVIDER_ARGS_FROM_ENVIRONMENT,
    PROVIDER_ARGS_SHADOWED,
    SERVICE_TOKEN_ENV,
    provider_args_set,
    refuse_stray_provider_environment,
    require_admin_credentials,
)
from infra.provider_contract import CONTRACTS, env_variables
from infra.provider_values import DELETE_MARKER
from infra.render_format import ATTACHMENT, IAM_POLICY, IAM_USER, SERVICE_ACCOUNT
from infra.render_format import SECRET_MARKER as SECRET
from infra.stack_file import load_stack_config
from infra.storage import COMPONENT_TYPE
from tests.support import PUBLIC_OPT_IN, only
from voice_recordings import KINDS, Env, StorageSettings

COMPONENT = "recording-storage"
BUCKET = "recordings-bucket"
IDENTITY_TYPES = (IAM_USER, IAM_POLICY, ATTACHMENT, SERVICE_ACCOUNT)


def _config(run: ProgramRun):  # type: ignore[no-untyped-def]
    return parse_stack_config(load_stack_config(run.stack))


def test_the_resources_are_exactly_the_specifications_hand_steps(run: ProgramRun) -> None:
    names = sorted((r.type.split(":")[-1], r.name) for r in run.resources)
    assert names == sorted(
        [
            ("RecordingStorage", COMPONENT),
            ("minio", "minio-admin"),
            ("S3Bucket", "recordings-bucket"),
            ("S3BucketVersioning", "recordings-versioning"),
            ("IlmPolicy", "recordings-lifecycle"),
            ("RandomPassword", "uploader-user-secret"),
            ("IamUser", "uploader-user"),
            ("IamPolicy", "uploader-policy"),
            ("IamUserPolicyAttachment", "uploader-policy-attachment"),
            ("IamServiceAccount", "voice-ai-realtime"),
            ("RandomPassword", "reader-user-secret"),
            ("IamUser", "reader-user"),
            ("IamPolicy", "reader-policy"),
            ("IamUserPolicyAttachment", "reader-policy-attachment"),
            ("IamServiceAccount", "omniplay-reader-access"),
            ("RandomPassword", "observer-user-secret"),
            ("IamUser", "observer-user"),
            ("IamPolicy", "observer-policy"),
            ("IamUserPolicyAttachment", "observer-policy-attachment"),
            ("IamServiceAccount", "pulumi-observer-access"),
            # Not a hand step: the data-protection steward (erase and export).
            ("RandomPassword", "steward-user-secret"),
            ("IamUser", "steward-user"),
            ("IamPolicy", "steward-policy"),
            ("IamUserPolicyAttachment", "steward-policy-attachment"),
            ("IamServiceAccount", "recordings-steward-access"),
            ("RandomPassword", "voice-ai-service-token"),
        ]
    )


def test_every_resource_is_a_child_of_the_component(run: ProgramRun) -> None:
    component = only(run, COMPONENT_TYPE)
    assert component.parent is None
    assert {r.parent for r in run.resources if r is not component} == {COMPONENT}


def test_every_minio_resource_uses_the_explicit_provider(run: ProgramRun) -> None:
    provider = only(run, "pulumi:providers:minio")
    for record in run.resources:
        if record.type.startswith("minio:"):
            assert record.provider == f"{provider.urn}::{provider.name}-id", record.name


def test_the_provider_points_at_the_stacks_server_with_masked_credentials(
    run: ProgramRun,
) -> None:
    config = _config(run)
    inputs = only(run, "pulumi:providers:minio").inputs
    assert inputs == {
        "minioServer": config.endpoint,
        "minioSsl": json.dumps(config.ssl),  # the SDK sends provider bools JSON-encoded
        "minioRegion": config.region,
        # No minioUser / minioPassword: the provider reads them from the job's environment, so
        # the state never holds them (PROVIDER_ARGS_FROM_ENVIRONMENT).
        # Set explicitly, or the provider would take MINIO_INSECURE from the deploying shell.
        "minioInsecure": "false",
    }


def test_the_provider_trusts_the_stacks_ca_bundle(runner: Callable[..., ProgramRun]) -> None:
    run = runner("prod", {"voice-recordings:caBundle": "/etc/ssl/netplay-ca.pem"})
    inputs = only(run, "pulumi:providers:minio").inputs
    assert inputs["minioCacertFile"] == "/etc/ssl/netplay-ca.pem"
    assert inputs["minioInsecure"] == "false"


def test_the_bucket_is_private_protected_and_retained(run: ProgramRun) -> None:
    bucket = only(run, "S3Bucket")
    assert bucket.inputs == {"bucket": _config(run).bucket, "acl": "private", "forceDestroy": False}
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    unprotected = [r.name for r in run.resources if r is not bucket and r.protect]
    assert unprotected == []


def test_versioning_is_enabled(run: ProgramRun) -> None:
    versioning = only(run, "S3BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert versioning.dependencies == ["recordings-bucket"]


def test_every_identity_waits_for_the_bucket(runner: Callable[..., ProgramRun]) -> None:
    """A failed bucket create (it fails when the bucket exists) stops before any identity."""
    for overrides in ({}, PUBLIC_OPT_IN, {"voice-recordings:omniplayReader": "false"}):
        run = runner("prod", overrides)
        identities = [r for r in run.resources if r.type in IDENTITY_TYPES]
        assert identities
        assert [r.name for r in identities if BUCKET not in r.dependencies] == []


def test_versioning_and_lifecycle_survive_a_refactor_or_destroy(run: ProgramRun) -> None:
    # Their Delete suspends versioning / removes the lifecycle of the retained bucket.
    for suffix in ("S3BucketVersioning", "IlmPolicy"):
        assert only(run, suffix).retain_on_delete, suffix


def test_the_lifecycle_removes_delete_markers_left_alone(run: ProgramRun) -> None:
    rules = {r["id"]: r for r in only(run, "IlmPolicy").inputs["rules"]}
    # No tag (a delete marker has none) and no other action: it never expires an object.
    assert rules[DELETE_MARKER_RULE_ID] == {
        "id": DELETE_MARKER_RULE_ID,
        "expiration": DELETE_MARKER,
    }


def test_the_lifecycle_expires_each_kind_by_its_tag(run: ProgramRun) -> None:
    config = _config(run)
    rules = [r for r in only(run, "IlmPolicy").inputs["rules"] if r.get("tags")]
    assert {r["id"]: r for r in rules} == {
        f"expire-{kind}": {
            "id": f"expire-{kind}",
            "tags": spec.tag,
            "expiration": f"{config.retention_days(kind)}d",
            "noncurrentVersionExpirationDays": config.noncurrent_version_expiration_days,
        }
        for kind, spec in KINDS.items()
    }


def test_each_policy_document_equals_its_file_with_the_stacks_bucket(run: ProgramRun) -> None:
    config = _config(run)
    uploader = only(run, "IamPolicy", "uploader-policy").inputs
    reader = only(run, "IamPolicy", "reader-policy").inputs
    observer = only(run, "IamPolicy", "observer-policy").inputs
    assert observer == {
        "name": config.identity(OBSERVER).policy,
        "policy": load_policy(OBSERVER_POLICY, config.bucket),
    }
    assert uploader == {
        "name": config.identity(UPLOADER).policy,
        "policy": load_policy(UPLOADER_POLICY, config.bucket),
    }
    assert reader == {
        "name": config.identity(READER).policy,
        "policy": load_policy(READER_POLICY, config.bucket),
    }


def test_users_get_a_generated_secret_and_their_policy(run: ProgramRun) -> None:
    config = _config(run)
    for role, user, policy in (
        ("uploader", config.identity(UPLOADER).user, config.identity(UPLOADER).policy),
        ("reader", config.identity(READER).user, config.identity(READER).policy),
        ("observer", config.identity(OBSERVER).user, config.identity(OBSERVER).policy),
    ):
        iam_user = only(run, "IamUser", f"{role}-user")
        assert iam_user.inputs == {"name": user, "secret": SECRET}
        assert iam_user.dependencies == sorted([BUCKET, f"{role}-user-secret"])
        attachment = only(run, "IamUserPolicyAttachment", f"{role}-policy-attachment")
        assert attachment.inputs == {"userName": user, "policyName": policy}
        assert attachment.dependencies == sorted([BUCKET, f"{role}-user", f"{role}-policy"])


def test_the_service_account_targets_the_uploader_after_its_policy(run: ProgramRun) -> None:
    config = _config(run)
    account = only(run, "IamServiceAccount", config.identity(UPLOADER).service_account)
    assert account.inputs == {"targetUser": config.identity(UPLOADER).user}
    assert "uploader-policy-attachment" in account.dependencies
    reader = only(run, "IamServiceAccount", config.identity(READER).service_account)
    assert reader.inputs == {"targetUser": config.identity(READER).user}
    observer = only(run, "IamServiceAccount", config.identity(OBSERVER).service_account)
    assert observer.inputs == {"targetUser": config.identity(OBSERVER).user}
    assert "observer-policy-attachment" in observer.dependencies
    # Read reports the parent's policy and never the secret: ignored, so a second up is a no-op.
    for each in (account, reader, observer):
        assert each.ignore_changes == sorted(CONTRACTS[SERVICE_ACCOUNT].not_read_back)


def test_no_anonymous_access_by_default(run: ProgramRun) -> None:
    assert not [r for r in run.resources if r.type.endswith("S3BucketPolicy")]
    assert run.outputs["public_recordings"] is False


def test_the_public_opt_in_reads_recordings_only(runner: Callable[..., ProgramRun]) -> None:
    run = runner("prod", PUBLIC_OPT_IN)
    policy = only(run, "S3BucketPolicy")
    assert policy.inputs == {
        "bucket": "voice-recordings",
        "policy": load_policy(PUBLIC_RECORDINGS_POLICY, "voice-recordings"),
    }
    assert policy.dependencies == ["recordings-bucket"]
    assert run.outputs["public_recordings"] is True


def test_no_server_side_encryption_unless_a_kms_key_is_named(
    run: ProgramRun, runner: Callable[..., ProgramRun]
) -> None:
    assert not [r for r in run.resources if r.type.endswith("S3BucketServerSideEncryption")]
    encrypted = runner("prod", {"voice-recordings:encryptionKeyId": "voice-recordings-key"})
    sse = only(encrypted, "S3BucketServerSideEncryption")
    assert sse.inputs == {
        "bucket": "voice-recordings",
        "encryptionType": "aws:kms",
        "kmsKeyId": "voice-recordings-key",
    }
    assert sse.dependencies == ["recordings-bucket"]


def test_without_the_omniplay_reader_there_is_no_reader(runner: Callable[..., ProgramRun]) -> None:
    run = runner("dev", {"voice-recordings:omniplayReader": "false"})
    assert not [r for r in run.resources if r.name.startswith("reader-")]
    assert "omniplay_reader_access_key" not in run.outputs
    # OmniPlay still gets the shared token, and no MinIO keys (presigned URLs need none).
    assert _dotenv(run, "omniplay_env") == {SERVICE_TOKEN_ENV: _token(run)}


def test_outputs_and_which_are_secret(run: ProgramRun) -> None:
    config = _config(run)
    assert run.outputs == {
        "bucket": config.bucket,
        "endpoint": config.endpoint,
        "region": config.region,
        "use_ssl": config.ssl,
        "public_url": config.public_url,
        "public_recordings": False,
        "omniplay_api_url": config.omniplay_api_url,
        "voice_ai_access_key": SECRET,
        "voice_ai_secret_key": SECRET,
        "voice_ai_env": SECRET,
        "omniplay_reader_access_key": SECRET,
        "omniplay_reader_secret_key": SECRET,
        "omniplay_env": SECRET,
        "observer_access_key": SECRET,
        "observer_secret_key": SECRET,
        "steward_access_key": SECRET,
        "steward_secret_key": SECRET,
        "steward_env": SECRET,
    }


def _dotenv(run: ProgramRun, output: str) -> dict[str, str]:
    lines = str(run.plain_outputs[output]).splitlines()
    names = [line.split("=", 1)[0] for line in lines]
    assert len(names) == len(set(names)), f"{output} repeats a variable: {names}"
    return dict(line.split("=", 1) for line in lines)


def _token(run: ProgramRun) -> str:
    return _dotenv(run, "voice_ai_env")[SERVICE_TOKEN_ENV]


def test_voice_ai_env_configures_the_runtime_package(run: ProgramRun) -> None:
    config = _config(run)
    env = _dotenv(run, "voice_ai_env")
    settings = StorageSettings.from_env(env)
    assert settings.access_key == run.plain_outputs["voice_ai_access_key"]
    assert settings.secret_key == run.plain_outputs["voice_ai_secret_key"]
    assert (settings.endpoint, settings.bucket, settings.use_ssl, settings.region) == (
        config.endpoint,
        config.bucket,
        config.ssl,
        config.region,
    )
    assert settings.public_url == config.public_url
    assert settings.url_mode == "presigned"
    # The specification's whole Voice AI block, and our URL mode: every name, nothing else.
    assert set(env) == {
        Env.ENDPOINT,
        Env.ACCESS_KEY,
        Env.SECRET_KEY,
        Env.BUCKET,
        Env.USE_SSL,
        Env.REGION,
        Env.PUBLIC_URL,
        Env.URL_MODE,
        OMNIPLAY_API_URL_ENV,
        SERVICE_TOKEN_ENV,
    }
    assert env[OMNIPLAY_API_URL_ENV] == config.omniplay_api_url
    assert env[SERVICE_TOKEN_ENV] in run.generated_secrets  # the generated RandomPassword


def test_omniplay_env_holds_the_same_token_and_the_readers_keys(run: ProgramRun) -> None:
    config = _config(run)
    env = _dotenv(run, "omniplay_env")
    assert set(env) == {SERVICE_TOKEN_ENV, *OMNIPLAY_MINIO_VARS}
    assert env[SERVICE_TOKEN_ENV] == _token(run)
    # The reader's settings under OmniPlay's own names: MINIO_* behind a prefix.
    settings = StorageSettings.from_env(
        {name.removeprefix(OMNIPLAY_MINIO_PREFIX): env[name] for name in OMNIPLAY_MINIO_VARS}
    )
    assert settings.access_key == run.plain_outputs["omniplay_reader_access_key"]
    assert settings.secret_key == run.plain_outputs["omniplay_reader_secret_key"]
    assert (settings.endpoint, settings.bucket, settings.use_ssl, settings.region) == (
        config.endpoint,
        config.bucket,
        config.ssl,
        config.region,
    )
    # None of OmniPlay's variables is one of the MINIO_* its own MinIO client may already use.
    assert not set(env) & {value for name, value in vars(Env).items() if name.isupper()}


ADOPTED = "adopted-service-token-0123456789"


def test_adopting_keeps_the_current_token_instead_of_generating_one(
    runner: Callable[..., ProgramRun],
) -> None:
    run = runner("prod", {full_key(SERVICE_TOKEN_KEY): ADOPTED})
    assert not [r for r in run.resources if r.name == "voice-ai-service-token"]
    assert _token(run) == ADOPTED
    assert _dotenv(run, "omniplay_env")[SERVICE_TOKEN_ENV] == ADOPTED
    assert run.config[full_key(SERVICE_TOKEN_KEY)] == SECRET
    assert ADOPTED not in json.dumps(run.document())


def _stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    text = stack_file.stack_file("prod").read_text(encoding="utf-8") + extra
    (tmp_path / "Pulumi.prod.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(
        stack_file, "stack_file", lambda stack, project=None: tmp_path / f"Pulumi.{stack}.yaml"
    )


def test_an_encrypted_token_in_the_stack_file_is_adopted_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack_file(
        tmp_path, monkeypatch, f"  voice-recordings:{SERVICE_TOKEN_KEY}:\n    secure: v1:abc\n"
    )
    run = run_program("prod")
    assert not [r for r in run.resources if r.name == "voice-ai-service-token"]
    assert run.config[full_key(SERVICE_TOKEN_KEY)] == SECRET
    assert _token(run) in run.generated_secrets  # the render's stand-in, guarded against leaks


def test_a_plaintext_token_in_the_stack_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack_file(tmp_path, monkeypatch, f"  voice-recordings:{SERVICE_TOKEN_KEY}: {ADOPTED}\n")
    with pytest.raises(StackConfigError, match="pulumi config set --secret") as caught:
        run_program("prod")
    assert ADOPTED not in str(caught.value)


@pytest.mark.parametrize("key", ADMIN_CONFIG_KEYS)
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "secure"])
def test_admin_credentials_in_the_stack_config_are_refused(
    key: str, encrypted: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = "\n    secure: v1:abc" if encrypted else " not-the-admin-password"
    _stack_file(tmp_path, monkeypatch, f"  {key}:{value}\n")
    with pytest.raises(StackConfigError) as caught:
        run_program("prod")
    message = str(caught.value)
    assert key in message and f"pulumi config rm {key}" in message
    assert ADMIN_USER_ENV in message and ADMIN_PASSWORD_ENV in message  # the safer way
    assert "not-the-admin-password" not in message


def test_without_credentials_in_the_environment_the_program_says_which_to_set() -> None:
    with pytest.raises(StackConfigError, match=f"export {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV}"):
        require_admin_credentials({})


def test_the_public_opt_in_switches_the_service_to_public_urls(
    runner: Callable[..., ProgramRun],
) -> None:
    dotenv = runner("prod", PUBLIC_OPT_IN).plain_outputs["voice_ai_env"]
    assert f"{Env.URL_MODE}=public\n" in dotenv


def test_no_generated_secret_appears_in_inputs_outputs_or_render(run: ProgramRun) -> None:
    assert len(run.generated_secrets) >= 5  # admin password, two user secrets, two key pairs
    visible = json.dumps(
        [run.document(), [r.inputs for r in run.resources], run.outputs], sort_keys=True
    )
    for value in run.generated_secrets:
        assert value not in visible
    # The unmasked outputs do carry them, so the check above would see a leak.
    assert run.plain_outputs["voice_ai_secret_key"] in run.generated_secrets


@pytest.mark.parametrize("overrides", [{}, {"voice-recordings:caBundle": "/etc/ssl/ca.pem"}])
def test_the_program_sets_the_provider_arguments_it_says_it_sets(
    runner: Callable[..., ProgramRun], overrides: dict[str, str]
) -> None:
    run = runner("prod", overrides)
    provider = only(run, "pulumi:providers:minio").inputs
    assert set(provider) == provider_args_set(_config_of(run, overrides))


def _config_of(run: ProgramRun, overrides: dict[str, str]):  # type: ignore[no-untyped-def]
    return parse_stack_config(load_stack_config(run.stack, overrides))


@pytest.mark.parametrize(("argument", "variable"), sorted(env_variables().items()))
@pytest.mark.parametrize("ca_bundle", ["", "/etc/ssl/ca.pem"])
def test_a_provider_variable_in_the_shell_is_refused_unless_the_program_sets_its_argument(
    argument: str, variable: str, ca_bundle: str
) -> None:
    """The class: every MINIO_* the provider reads loses to an explicit argument, is the one
    place the credentials come from, or fails."""
    config = parse_stack_config(
        {
            "voice-recordings:endpoint": "s.example",
            "voice-recordings:omniplayApiUrl": "https://omniplay.example",
            "voice-recordings:caBundle": ca_bundle,
        }
    )
    environ = {variable: "/tmp/x"}
    expected = PROVIDER_ARGS_FROM_ENVIRONMENT | PROVIDER_ARGS_SHADOWED
    if argument in provider_args_set(config) | expected:
        refuse_stray_provider_environment(config, environ)
    else:
        with pytest.raises(StackConfigError, match=rf"^{variable} set in this shell") as caught:
            refuse_stray_provider_environment(config, environ)
        assert "/tmp/x" not in str(caught.value)


def test_a_stray_provider_variable_stops_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIO_CACERT_FILE", "/tmp/someone-elses-ca.pem")
    with pytest.raises(StackConfigError, match=r"MINIO_CACERT_FILE.*voice-recordings:caBundle"):
        run_program("prod")
    monkeypatch.setenv("MINIO_INSECURE", "true")  # the program sets minio_insecure=false itself
    monkeypatch.delenv("MINIO_CACERT_FILE")
    assert only(run_program("prod"), "pulumi:providers:minio").inputs["minioInsecure"] == "false"
