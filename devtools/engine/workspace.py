"""A throwaway workspace where the real Pulumi engine runs this repository's program.

The project is a project directory of its own (:func:`infra.project.make_project`):
``Pulumi.yaml`` copied, the stack files' config copied without what a person's ``stack init``
may have left in the clone's (a passphrase salt or secrets provider of another backend, values
encrypted with it), and the program (``__main__.py``, ``infra/``, ``voice_recordings/``) and
the virtualenv linked, so the language host runs ``__main__.py`` exactly as ``pulumi up`` in the
clone would, and ``pulumi stack init``
and ``pulumi config set`` write there, never into the clone. Around it: a local file
backend, passphrase-encrypted secrets with a generated passphrase, a ``PULUMI_HOME`` whose
plugin cache holds, at the versions the SDKs ask for, the ``minio`` plugin built from the real
bridge (:mod:`devtools.engine.minio_plugin`) and the stand-in ``random`` plugin
(:mod:`devtools.providers`), and nothing that reaches the internet.

A test stack is a stack file's config with the endpoint pointed elsewhere through the stack's
own keys (:meth:`EngineWorkspace.init_stack`): no code path exists only for tests.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from devtools.endpoint.clients import ServedEndpoint
from devtools.endpoint.handmade import stack_config_for
from devtools.engine import minio_plugin
from devtools.providers import plugins as stand_in_plugins
from devtools.providers import random_provider
from infra.config import full_key
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from infra.project import REPOSITORY, make_project
from voice_recordings import StorageSettings
from voice_recordings.settings import Env

# Nothing a run does may reach the internet or depend on the shell that started it.
QUIET_ENV: Final = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_SKIP_CONFIRMATIONS": "true",
    "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
    "PULUMI_ENABLE_LEGACY_DIFF": "false",
}
MINIO_PLUGIN_VERSION: Final = "0.17.1"  # pulumi_minio's pulumi-plugin.json


@dataclass(frozen=True)
class PulumiRun:
    """One ``pulumi`` command: what it was, its exit status and what it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together, as a terminal shows them."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        """stdout parsed as JSON (``--json``)."""
        return json.loads(self.stdout)


class PulumiFailed(AssertionError):
    """A ``pulumi`` command that had to succeed failed; the message holds its output."""


class EngineWorkspace:
    """A project directory, a backend and a plugin cache under ``root``, for the engine in
    ``engine_dir``; the project's files from ``source`` (default: this clone)."""

    def __init__(
        self,
        engine_dir: Path,
        root: Path,
        *,
        env: Mapping[str, str] | None = None,
        source: Path = REPOSITORY,
    ):
        self.engine_dir = engine_dir
        self.root = root
        self.project = root / "project"
        self.home = root / "pulumi-home"
        self.state = root / "state"
        self.passphrase = secrets.token_urlsafe(24)
        self.extra_env = dict(env or {})
        self.state.mkdir(parents=True)
        # Pulumi.yaml's `virtualenv: .venv`: the interpreter running us (the clone's .venv).
        make_project(self.project, source=source, keep_secure=False)
        minio_plugin.install(self.home / "plugins" / f"resource-minio-v{MINIO_PLUGIN_VERSION}")
        stand_in_plugins.install(
            self.home / "plugins" / f"resource-random-v{random_provider.VERSION}",
            only=random_provider.NAME,
        )

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a run: the engine first on PATH, this workspace's home, backend
        and passphrase, no stray ``MINIO_*`` or ``PULUMI_*`` from the calling shell."""
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MINIO_", "PULUMI_", "AWS_")) and k != "VIRTUAL_ENV"
        }
        return {
            **inherited,
            **QUIET_ENV,
            "PATH": f"{self.engine_dir}{os.pathsep}{inherited.get('PATH', '')}",
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            **self.extra_env,
            **(extra or {}),
        }

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = 300,
        show: bool = False,
    ) -> PulumiRun:
        """``pulumi --non-interactive <args>`` in the project; raises :class:`PulumiFailed`
        when ``check`` and it fails. ``show``: the output goes to this terminal, as it comes
        (the result then holds none)."""
        command = ("pulumi", "--non-interactive", *args)
        result = self._execute(command, self.env(env), timeout=timeout, show=show)
        if check and result.returncode != 0:
            raise PulumiFailed(
                f"pulumi {' '.join(args)} exited {result.returncode}:\n{result.output}"
            )
        return result

    def run_job(
        self, command: Sequence[str], job_env: Mapping[str, str], timeout: float = 600
    ) -> PulumiRun:
        """A CI job's command (say ``bash <script> drift``) in the project, as the job runs it:
        this workspace's engine and plugin cache, and of the state and MinIO's keys only what
        ``job_env`` gives (a job without backend secrets gets none of this workspace's)."""
        env = {
            k: v
            for k, v in self.env().items()
            if k not in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")
        }
        return self._execute(tuple(command), {**env, **job_env}, timeout=timeout, show=False)

    def _execute(
        self, command: tuple[str, ...], env: Mapping[str, str], *, timeout: float, show: bool
    ) -> PulumiRun:
        done = subprocess.run(
            command,
            cwd=self.project,
            env=env,
            capture_output=not show,
            text=True,
            timeout=timeout,
            check=False,
        )
        return PulumiRun(command, done.returncode, done.stdout or "", done.stderr or "")

    def init_stack(self, stack: str, config: Mapping[str, str], secret: Sequence[str] = ()) -> None:
        """``pulumi stack init`` of the stack file's stack, then ``config set-all`` of ``config``
        (the keys in ``secret`` encrypted), in one command."""
        self.run("stack", "init", stack)
        if not config:
            return
        pairs = [
            item
            for key, value in config.items()
            for item in ("--secret" if key in secret else "--plaintext", f"{key}={value}")
        ]
        self.run("config", "set-all", "-s", stack, *pairs)

    def outputs(self, stack: str) -> dict[str, Any]:
        """Every stack output, secrets in clear (``pulumi stack output --show-secrets``)."""
        found: dict[str, Any] = self.run(
            "stack", "output", "-s", stack, "--json", "--show-secrets"
        ).json()
        return found

    def export(self, stack: str) -> dict[str, Any]:
        """``pulumi stack export``: the state as the backend holds it (secrets encrypted)."""
        exported: dict[str, Any] = self.run("stack", "export", "-s", stack).json()
        return exported


def admin_env(endpoint: ServedEndpoint) -> dict[str, str]:
    """The deploying job's environment for ``endpoint``: its admin as MINIO_USER/MINIO_PASSWORD."""
    return {
        ADMIN_USER_ENV: endpoint.admin.access_key,
        ADMIN_PASSWORD_ENV: endpoint.admin.secret_key,
    }


def embedded_stack_config(endpoint: ServedEndpoint) -> dict[str, str]:
    """A stack file's config pointed at ``endpoint``, through the stack's own keys (its address,
    TLS, its CA, and the public URL links are built on)."""
    return {**stack_config_for(endpoint), full_key("publicUrl"): endpoint.endpoint_url}


def parse_dotenv(text: str) -> dict[str, str]:
    """A ``.env`` block (``NAME=value`` lines, ``#`` comments) as a mapping."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def block_settings(block: str, ca_bundle: str | None, prefix: str = "") -> StorageSettings:
    """The runtime settings a stack output's ``.env`` block gives (``prefix``: OmniPlay's names),
    with the CA the deploying site trusts (the block carries none: production's is public)."""
    env = {name.removeprefix(prefix): value for name, value in parse_dotenv(block).items()}
    if ca_bundle:
        env[Env.CA_BUNDLE] = ca_bundle
    return StorageSettings.from_env(env)
