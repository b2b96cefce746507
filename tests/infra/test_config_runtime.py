"""The stack config accepts nothing the service would refuse (issue 19.3).

One definition: every value the stack hands the Voice AI (``voice_ai_env``) is checked by the
runtime's own validator. So ``python -m infra.render`` refuses what ``StorageSettings.from_env``
would refuse, and every ``.env`` block a stack renders loads with ``from_env``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import StackConfigError, full_key, parse_stack_config
from infra.program import OMNIPLAY_MINIO_PREFIX, voice_ai_dotenv
from infra.render import VARIANTS, cli
from tests.support import MINIMAL_STACK_CONFIG, PUBLIC_OVERRIDES, ROOT, program_run
from voice_recordings import ConfigError, StorageSettings
from voice_recordings.settings import Env

KEYS = ("AKIAEXAMPLE", "unit-test-secret-not-real")
TOKEN = "token-0123456789abcdef"
RENDER = (sys.executable, "-m", "infra.render")


def dotenv(block: str) -> dict[str, str]:
    lines = [line for line in block.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_the_render_refuses_an_endpoint_on_port_0_in_one_line_naming_the_key() -> None:
    done = subprocess.run(
        [*RENDER, "--stack", "dev", "--config", f"{full_key('endpoint')}=localhost:0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: {full_key('endpoint')} has an invalid port")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("endpoint", "storage.example.net:99999"),
        ("endpoint", "storage.example.net?x=1"),
        ("endpoint", "storage.example.net#frag"),
        ("endpoint", "st\u00f3rage.example.net"),
        ("endpoint", "storage.example.net/minio"),
        ("endpoint", "https://storage.example.net"),
        ("endpoint", "[::1"),
        ("publicUrl", "https://cdn.example.net:99999"),
        ("publicUrl", "https://cdn.example.net:0"),
        ("publicUrl", "https://cdn.example.net/recordings"),  # a path, in presigned mode
        ("publicUrl", "https://c\u00e9n.example.net"),
        ("omniplayApiUrl", "https://omniplay.example.net:99999"),
        ("omniplayApiUrl", "https://omniplay.example.net?x=1"),
        ("omniplayApiUrl", "https://\u00f6mniplay.example.net"),
        ("region", "us-east-1\u200b"),
        ("region", "-us"),
        ("bucket", "192.168.1.1"),
        ("bucket", "xn--recordings"),
    ],
)
def test_the_render_refuses_what_the_service_would_refuse(
    key: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["--stack", "dev", "--config", f"{full_key(key)}={value}"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {full_key(key)} ")


def test_a_public_url_with_a_path_passes_when_recordings_are_public() -> None:
    raw = {**MINIMAL_STACK_CONFIG, **PUBLIC_OVERRIDES, full_key("publicUrl"): "https://c.net/r/"}
    config = parse_stack_config(raw)
    env = dotenv(voice_ai_dotenv(config, *KEYS, TOKEN))
    assert StorageSettings.from_env(env).public_url == "https://c.net/r"


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("dev", {}),
        ("prod", {}),
        ("dev", PUBLIC_OVERRIDES),
        *VARIANTS.values(),
    ],
)
def test_every_rendered_voice_ai_env_loads_with_the_runtime(
    stack: str, overrides: dict[str, str]
) -> None:
    run = program_run(stack, dict(overrides))
    env = dotenv(str(run.plain_outputs["voice_ai_env"]))
    # An adopted account's block keeps the service's keys (a comment says so): stand-ins here.
    env.setdefault(Env.ACCESS_KEY, KEYS[0])
    env.setdefault(Env.SECRET_KEY, KEYS[1])
    settings = StorageSettings.from_env(env)
    assert settings.endpoint == env[Env.ENDPOINT] and settings.bucket == env[Env.BUCKET]
    # OmniPlay's block names the same settings under its prefix (its reader's keys).
    omniplay = dotenv(str(run.plain_outputs["omniplay_env"]))
    reader = {
        name.removeprefix(OMNIPLAY_MINIO_PREFIX): value
        for name, value in omniplay.items()
        if name.startswith(OMNIPLAY_MINIO_PREFIX)
    }
    if reader:
        assert StorageSettings.from_env(reader).endpoint == settings.endpoint


HOSTS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=24)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(["endpoint", "publicUrl", "region", "bucket", "omniplayApiUrl"]),
    head=st.sampled_from(["", "https://", "http://", "http://localhost", "storage.example.net"]),
    tail=HOSTS,
)
def test_property_what_the_stack_accepts_the_service_accepts(
    key: str, head: str, tail: str
) -> None:
    raw = {**MINIMAL_STACK_CONFIG, full_key(key): head + tail}
    try:
        config = parse_stack_config(raw)
    except StackConfigError:
        return
    env = dotenv(voice_ai_dotenv(config, *KEYS, TOKEN))
    try:
        StorageSettings.from_env(env)
    except ConfigError as exc:  # pragma: no cover - the failure this test exists to find
        pytest.fail(f"the stack accepted {key}={head + tail!r}; the service refuses: {exc}")


# Every stack config that changes what a runtime block says: TLS, a public URL (with a path
# only where public URLs are on), the public opt-in, a region and a bucket of its own.
RUNTIME_BLOCK_CONFIGS: tuple[dict[str, str], ...] = (
    {},
    PUBLIC_OVERRIDES,
    {**PUBLIC_OVERRIDES, full_key("publicUrl"): "https://cdn.example.net/recordings"},
    {**PUBLIC_OVERRIDES, full_key("publicUrl"): "https://cdn.example.net:8443/a/b"},
    {full_key("publicUrl"): "https://cdn.example.net"},
    {full_key("ssl"): "false", full_key("publicUrl"): "http://cdn.example.net:8080"},
    {full_key("region"): "sa-east-1", full_key("bucket"): "gravacoes-2026"},
)
RUNTIME_BLOCKS = ("voice_ai_env", "steward_env")


@pytest.mark.parametrize("stack", ["prod", "dev"])
@pytest.mark.parametrize("overrides", RUNTIME_BLOCK_CONFIGS, ids=lambda o: ",".join(o) or "as-is")
def test_every_runtime_block_the_program_emits_loads_in_the_runtime(
    stack: str, overrides: dict[str, str]
) -> None:
    run = program_run(stack, overrides)
    for output in RUNTIME_BLOCKS:
        env = dotenv(str(run.plain_outputs[output]))
        settings = StorageSettings.from_env({**env, Env.SPOOL_DIR: "off"})  # raises if not
        assert settings.public_url.startswith(env[Env.PUBLIC_URL].rstrip("/")), output
