"""The Pulumi program: read and validate the stack config, build the storage, export the outputs.

``infra/__main__.py`` (what ``pulumi up`` runs) and the offline render (``infra/render.py``, under
Pulumi mocks) both call :func:`main`, so the render is the program itself, not a copy of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

import pulumi
from pulumi.runtime import config as runtime_config

from infra.config import NAMESPACE, StackConfig, StackConfigError, full_key, parse_stack_config
from infra.provider_contract import env_variables
from infra.storage import RecordingStorage, RecordingStorageArgs
from voice_recordings import Env

PROVIDER_NAMESPACE: Final = "minio"
ADMIN_USER_KEY: Final = "minioUser"
ADMIN_PASSWORD_KEY: Final = "minioPassword"
ADMIN_USER_ENV: Final = "MINIO_USER"
ADMIN_PASSWORD_ENV: Final = "MINIO_PASSWORD"
# The provider's arguments the program sets on its explicit provider (wire names; a test checks
# them against the render). The provider fills any other argument from its MINIO_* variable.
PROVIDER_ARGS_SET: Final = frozenset(
    {"minioServer", "minioRegion", "minioUser", "minioPassword", "minioSsl", "minioInsecure"}
)
CA_BUNDLE_ARG: Final = "minioCacertFile"
# Deprecated aliases of minio_user / minio_password, read only when those are empty, which the
# program never leaves them (minio/check_config.go NewConfig): the Voice AI's own
# MINIO_ACCESS_KEY / MINIO_SECRET_KEY in the shell change nothing.
PROVIDER_ARGS_SHADOWED: Final = frozenset({"minioAccessKey", "minioSecretKey"})


def raw_stack_config() -> dict[str, str]:
    """Every config key of this project's namespace that the Pulumi engine passed in, as strings.

    ``pulumi.Config`` can only ``get`` a key by name; listing them all is what lets a typo'd key
    fail instead of being silently ignored.
    """
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{NAMESPACE}:"
    return {key: str(value) for key, value in merged.items() if key.startswith(prefix)}


def admin_credentials() -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """The provider's admin user and password: stack config (secret) first, then the environment."""
    config = pulumi.Config(PROVIDER_NAMESPACE)
    user = config.get_secret(ADMIN_USER_KEY)
    password = config.get_secret(ADMIN_PASSWORD_KEY)
    if user is None and os.environ.get(ADMIN_USER_ENV):
        user = pulumi.Output.secret(os.environ[ADMIN_USER_ENV])
    if password is None and os.environ.get(ADMIN_PASSWORD_ENV):
        password = pulumi.Output.secret(os.environ[ADMIN_PASSWORD_ENV])
    if user is None or password is None:
        raise StackConfigError(
            f"MinIO admin credentials not configured: run `pulumi config set "
            f"{PROVIDER_NAMESPACE}:{ADMIN_USER_KEY} <user>` and `pulumi config set --secret "
            f"{PROVIDER_NAMESPACE}:{ADMIN_PASSWORD_KEY}`, or export {ADMIN_USER_ENV} and "
            f"{ADMIN_PASSWORD_ENV}"
        )
    return user, password


def provider_args_set(config: StackConfig) -> frozenset[str]:
    """The provider arguments the program sets for this stack."""
    return PROVIDER_ARGS_SET | ({CA_BUNDLE_ARG} if config.ca_bundle else frozenset())


def refuse_stray_provider_environment(
    config: StackConfig, environ: Mapping[str, str] | None = None
) -> None:
    """Fail when the shell holds a MINIO_* variable the provider would use behind the program.

    The provider fills every argument the program leaves unset from the environment, even for an
    explicit provider (minio/provider.go): a session token, a client certificate or another CA
    would change the identity or what TLS trusts, unreviewed.
    """
    env = os.environ if environ is None else environ
    unused = provider_args_set(config) | PROVIDER_ARGS_SHADOWED
    stray = sorted(
        variable
        for argument, variable in env_variables().items()
        if argument not in unused and env.get(variable)
    )
    if stray:
        hint = (
            f"; for a private CA set {full_key('caBundle')} instead"
            if "MINIO_CACERT_FILE" in stray
            else ""
        )
        raise StackConfigError(
            f"{', '.join(stray)} set in this shell: the MinIO provider would use "
            f"{'it' if len(stray) == 1 else 'them'} behind the program's back; unset "
            f"{'it' if len(stray) == 1 else 'them'}{hint}"
        )


def kept_keys_note(access_key: str) -> str:
    """What ``voice_ai_env`` says in place of the keys while the console's account is adopted."""
    return (
        f"# {Env.ACCESS_KEY} and {Env.SECRET_KEY}: keep the ones the Voice AI runs with now (the "
        f"console's service account {access_key}, adopted: its secret cannot be read back). "
        f"New keys come with the handover (README: Taking over the hand-made storage).\n"
    )


def voice_ai_dotenv(config: StackConfig, access_key: str, secret_key: str | None) -> str:
    """The Voice AI service's ``.env`` block, with the specification's MINIO_* names.

    ``secret_key`` None: the account was imported and its secret is unknown. The block then has
    no key lines, only a comment saying to keep the existing ones: blank keys pasted over a
    working ``.env`` would stop the service.
    """
    keys: dict[str, str] = (
        {Env.ACCESS_KEY: access_key, Env.SECRET_KEY: secret_key} if secret_key is not None else {}
    )
    lines = {
        Env.ENDPOINT: config.endpoint,
        **keys,
        Env.BUCKET: config.bucket,
        Env.USE_SSL: "true" if config.ssl else "false",
        Env.REGION: config.region,
        Env.PUBLIC_URL: config.public_url,
        # Public URLs play only where the bucket allows anonymous reads of recordings.
        Env.URL_MODE: "public" if config.anonymous_recordings else "presigned",
    }
    block = "".join(f"{name}={value}\n" for name, value in lines.items())
    return block if secret_key is not None else kept_keys_note(access_key) + block


def main() -> RecordingStorage:
    """Validate the config (before any resource), build the storage, export the stack outputs."""
    config = parse_stack_config(raw_stack_config())
    refuse_stray_provider_environment(config)
    admin_user, admin_password = admin_credentials()
    storage = RecordingStorage(
        "recording-storage",
        RecordingStorageArgs(config=config, admin_user=admin_user, admin_password=admin_password),
    )
    uploader = storage.uploader.service_account
    pulumi.export("bucket", storage.bucket.bucket)
    pulumi.export("endpoint", config.endpoint)
    pulumi.export("region", config.region)
    pulumi.export("use_ssl", config.ssl)
    pulumi.export("public_url", config.public_url)
    pulumi.export("public_recordings", config.anonymous_recordings)
    if config.adopt_service_account:
        # The console's account, imported: its access key is the import id, its secret was never
        # readable. No secret output: a blank one would break the service on copy-paste.
        pulumi.export("voice_ai_access_key", pulumi.Output.secret(config.adopt_service_account))
        pulumi.export(
            "voice_ai_env",
            pulumi.Output.secret(voice_ai_dotenv(config, config.adopt_service_account, None)),
        )
    else:
        pulumi.export("voice_ai_access_key", pulumi.Output.secret(uploader.access_key))
        pulumi.export("voice_ai_secret_key", pulumi.Output.secret(uploader.secret_key))
        pulumi.export(
            "voice_ai_env",
            pulumi.Output.secret(
                pulumi.Output.all(uploader.access_key, uploader.secret_key).apply(
                    lambda keys: voice_ai_dotenv(config, str(keys[0]), str(keys[1]))
                )
            ),
        )
    if storage.reader is not None:
        reader = storage.reader.service_account
        pulumi.export("omniplay_reader_access_key", pulumi.Output.secret(reader.access_key))
        pulumi.export("omniplay_reader_secret_key", pulumi.Output.secret(reader.secret_key))
    return storage
