"""The Pulumi program: read and validate the stack config, build the storage, export the outputs.

``infra/__main__.py`` (what ``pulumi up`` runs) and the offline render (``infra/render.py``, under
Pulumi mocks) both call :func:`main`, so the render is the program itself, not a copy of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Final

import pulumi
from pulumi.runtime import config as runtime_config

from infra.config import NAMESPACE, StackConfig, StackConfigError, full_key, parse_stack_config
from infra.identities import READER, STEWARD, UPLOADER
from infra.provider_contract import env_variables
from infra.storage import RecordingStorage, RecordingStorageArgs
from voice_recordings import Env

# The executor's exit code for "the program has told the user what is wrong" (Pulumi's
# pulumi-language-python-exec): the language host then reports no "program exited with non-zero
# exit code" of its own (a RunError exits 1 and gets that second error line).
EXIT_AFTER_USER_MESSAGE: Final = 32
PROVIDER_NAMESPACE: Final = "minio"
ADMIN_USER_ENV: Final = "MINIO_USER"
ADMIN_PASSWORD_ENV: Final = "MINIO_PASSWORD"
# The provider's credential settings (terraform-provider-minio v1.20.1, provider.go) as stack
# config keys. None may sit in the stack config: every job that can decrypt the config (a preview
# holding the passphrase or the backend token) could read them. The provider gets them from the
# environment of the one job that deploys.
ADMIN_CONFIG_KEYS: Final = tuple(
    f"{PROVIDER_NAMESPACE}:{key}"
    for key in (
        "minioUser",
        "minioPassword",
        "minioAccessKey",
        "minioSecretKey",
        "minioSessionToken",
    )
)

# The integration's variables beyond MINIO_* (names from the specification).
OMNIPLAY_API_URL_ENV: Final = "OMNIPLAY_API_URL"
SERVICE_TOKEN_ENV: Final = "VOICE_AI_SERVICE_TOKEN"
# OmniPlay's own MinIO client already has MINIO_* settings for its own buckets; the reader's keys
# get names of their own so handing this block over cannot replace them.
OMNIPLAY_MINIO_PREFIX: Final = "VOICE_RECORDINGS_"
OMNIPLAY_MINIO_VARS: Final = tuple(
    OMNIPLAY_MINIO_PREFIX + name
    for name in (Env.ENDPOINT, Env.USE_SSL, Env.REGION, Env.BUCKET, Env.ACCESS_KEY, Env.SECRET_KEY)
)
# The provider's arguments the program sets on its explicit provider (wire names; a test checks
# them against the render). The provider fills any other argument from its MINIO_* variable.
PROVIDER_ARGS_SET: Final = frozenset({"minioServer", "minioRegion", "minioSsl", "minioInsecure"})
# The credentials, which the provider takes from MINIO_USER / MINIO_PASSWORD of the job that runs
# it, on purpose: as inputs they would be stored in the state (readable by whoever can decrypt
# it), and a job with other keys (drift with the observer's) would see the provider change.
PROVIDER_ARGS_FROM_ENVIRONMENT: Final = frozenset({"minioUser", "minioPassword"})
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


def refuse_admin_credentials_in_config(keys: Iterable[str]) -> None:
    """Fail, naming the safer way, when the stack config holds the provider's admin credentials."""
    found = sorted(set(keys) & set(ADMIN_CONFIG_KEYS))
    if found:
        removes = " and ".join(f"`pulumi config rm {key}`" for key in found)
        raise StackConfigError(
            f"{', '.join(found)} must not be in the stack config: any job that can decrypt the "
            f"config could read the MinIO admin credentials. Remove it ({removes}) and give them "
            f"to the deploying job only, as {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV} in its "
            f"environment (in CI: secrets of the `production` environment)"
        )


def require_admin_credentials(environ: Mapping[str, str] | None = None) -> None:
    """Fail unless MINIO_USER and MINIO_PASSWORD hold the provider's credentials (never stack
    config, never the program's inputs: the provider reads them from this environment).

    ``pulumi up`` needs the admin's; ``pulumi preview --refresh`` needs only the observer's.
    """
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    refuse_admin_credentials_in_config(merged)
    env = os.environ if environ is None else environ
    user, password = env.get(ADMIN_USER_ENV), env.get(ADMIN_PASSWORD_ENV)
    if not user or not password:
        raise StackConfigError(
            f"MinIO credentials not configured: export {ADMIN_USER_ENV} and "
            f"{ADMIN_PASSWORD_ENV} (the admin's to deploy; for a preview, the read-only "
            f"observer's keys: `pulumi stack output observer_access_key --show-secrets`)"
        )


def _dotenv(lines: Mapping[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in lines.items())


def omniplay_dotenv(config: StackConfig, token: str, reader: tuple[str, str] | None) -> str:
    """OmniPlay's ``.env`` block: the shared token, and the reader's keys when it has a reader."""
    lines = {SERVICE_TOKEN_ENV: token}
    if reader is not None:
        values = (
            config.endpoint,
            "true" if config.ssl else "false",
            config.region,
            config.bucket,
            *reader,
        )
        lines.update(zip(OMNIPLAY_MINIO_VARS, values, strict=True))
    return _dotenv(lines)


def steward_dotenv(config: StackConfig, access_key: str, secret_key: str) -> str:
    """The steward's ``.env`` block: the runtime package's MINIO_* settings with its keys (what
    ``voice-recordings erase`` and ``export`` read)."""
    return _dotenv(
        {
            Env.ENDPOINT: config.endpoint,
            Env.ACCESS_KEY: access_key,
            Env.SECRET_KEY: secret_key,
            Env.BUCKET: config.bucket,
            Env.USE_SSL: "true" if config.ssl else "false",
            Env.REGION: config.region,
            Env.PUBLIC_URL: config.public_url,
            # The same mode as the Voice AI's: a public URL with a path loads only in it.
            Env.URL_MODE: config.url_mode,
        }
    )


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
    unused = provider_args_set(config) | PROVIDER_ARGS_FROM_ENVIRONMENT | PROVIDER_ARGS_SHADOWED
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
        f"New keys come with the handover (docs/operating.md: Taking over the hand-made "
        f"storage).\n"
    )


def voice_ai_dotenv(
    config: StackConfig, access_key: str, secret_key: str | None, token: str
) -> str:
    """The Voice AI service's ``.env`` block: the specification's whole Voice AI section.

    ``secret_key`` None: the account was imported and its secret is unknown. The block then has
    no key lines, only a comment saying to keep the existing ones: blank keys pasted over a
    working ``.env`` would stop the service.
    """
    keys: dict[str, str] = (
        {Env.ACCESS_KEY: access_key, Env.SECRET_KEY: secret_key} if secret_key is not None else {}
    )
    block = _dotenv(
        {
            Env.ENDPOINT: config.endpoint,
            **keys,
            Env.BUCKET: config.bucket,
            Env.USE_SSL: "true" if config.ssl else "false",
            Env.REGION: config.region,
            Env.PUBLIC_URL: config.public_url,
            Env.URL_MODE: config.url_mode,
            OMNIPLAY_API_URL_ENV: config.omniplay_api_url,
            SERVICE_TOKEN_ENV: token,
        }
    )
    return block if secret_key is not None else kept_keys_note(access_key) + block


def export_keys(storage: RecordingStorage) -> None:
    """Each identity's keys as secret outputs (``<outputs>_access_key``, ``..._secret_key``):
    the Voice AI's, OmniPlay's reader's, CI's observer's (MINIO_OBSERVER_* repository secrets)
    and the steward's."""
    config = storage.config
    for role in config.roles():
        account = storage.identity(role).service_account
        if role.adopted and config.adopt_service_account:
            # The console's account, imported: its access key is the import id, its secret was
            # never readable. No secret output: a blank one would break the service on
            # copy-paste.
            adopted = config.adopt_service_account
            pulumi.export(role.access_key_output, pulumi.Output.secret(adopted))
            continue
        pulumi.export(role.access_key_output, pulumi.Output.secret(account.access_key))
        pulumi.export(role.secret_key_output, pulumi.Output.secret(account.secret_key))


def main(environ: Mapping[str, str] | None = None) -> RecordingStorage:
    """Validate the config (before any resource), build the storage, export the stack outputs.

    ``environ`` stands in for ``os.environ`` as the source of the credentials (the offline render
    passes fixed stand-ins).
    """
    raw = raw_stack_config()
    config = parse_stack_config(raw, [key for key in raw if runtime_config.is_config_secret(key)])
    # The real environment, even in the render: what the provider would read behind the program.
    refuse_stray_provider_environment(config)
    require_admin_credentials(environ)
    storage = RecordingStorage("recording-storage", RecordingStorageArgs(config=config))
    token = storage.service_token
    pulumi.export("bucket", storage.bucket.bucket)
    pulumi.export("endpoint", config.endpoint)
    pulumi.export("region", config.region)
    pulumi.export("use_ssl", config.ssl)
    pulumi.export("public_url", config.public_url)
    pulumi.export("public_recordings", config.anonymous_recordings)
    pulumi.export("omniplay_api_url", config.omniplay_api_url)
    export_keys(storage)
    uploader = storage.identity(UPLOADER).service_account
    if config.adopt_service_account:
        adopted = config.adopt_service_account
        pulumi.export(
            "voice_ai_env",
            pulumi.Output.secret(
                token.apply(lambda value: voice_ai_dotenv(config, adopted, None, str(value)))
            ),
        )
    else:
        pulumi.export(
            "voice_ai_env",
            pulumi.Output.secret(
                pulumi.Output.all(uploader.access_key, uploader.secret_key, token).apply(
                    lambda v: voice_ai_dotenv(config, str(v[0]), str(v[1]), str(v[2]))
                )
            ),
        )
    reader_keys: list[pulumi.Output[str]] = []
    if READER.name in storage.identities:
        reader = storage.identity(READER).service_account
        reader_keys = [reader.access_key, reader.secret_key]
    pulumi.export(
        "omniplay_env",
        pulumi.Output.secret(
            pulumi.Output.all(token, *reader_keys).apply(
                lambda v: omniplay_dotenv(
                    config, str(v[0]), (str(v[1]), str(v[2])) if len(v) == 3 else None
                )
            )
        ),
    )
    # The steward's block: for whoever answers a data-subject request (`voice-recordings erase`).
    steward = storage.identity(STEWARD).service_account
    pulumi.export(
        "steward_env",
        pulumi.Output.secret(
            pulumi.Output.all(steward.access_key, steward.secret_key).apply(
                lambda v: steward_dotenv(config, str(v[0]), str(v[1]))
            )
        ),
    )
    return storage
