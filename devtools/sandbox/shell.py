"""The lines that make another shell use the sandbox (``. <dir>/env.sh``).

They put the sandbox's ``sandbox`` command, the pinned ``pulumi`` (with its language host) and
the virtualenv's ``voice-recordings`` and ``python`` first on ``PATH``, this clone on
``PYTHONPATH`` (``python -m infra.takeover`` and the CLI run the clone's code), Pulumi at the
sandbox's home (the plugins), backend and passphrase, the admin as ``MINIO_USER`` /
``MINIO_PASSWORD`` (what ``pulumi up`` gives the provider), ``MINIO_CA_BUNDLE`` (the sandbox's CA
bundle: the runtime trusts the endpoints with it; the stacks' own ``caBundle`` config tells the
provider), ``MINIO_SPOOL_DIR`` inside the sandbox (never the user's own spool), ``SANDBOX`` (the
directory: the ``.env`` blocks are under ``$SANDBOX/blocks``), and they ``cd`` into the project
directory, where ``pulumi`` finds the project. The file holds secrets (the passphrase, the
admin's password): it is 0600 and never printed.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from devtools.endpoint.clients import Credentials
from devtools.engine.workspace import EngineWorkspace
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from infra.project import REPOSITORY
from voice_recordings.settings import Env

ENV_FILE: Final = "env.sh"
BIN: Final = "bin"
SPOOL: Final = "spool"
# What a person's shell keeps from Pulumi's quiet settings: no update check, no plugin download.
PULUMI_QUIET: Final = (
    "PULUMI_SKIP_UPDATE_CHECK",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
    "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING",
)


def exports(root: Path, workspace: EngineWorkspace, admin: Credentials) -> dict[str, str]:
    """Each variable the shell gets, by name (``PATH`` and ``PYTHONPATH`` as prefixes)."""
    quiet = workspace.env()
    return {
        "PATH": os.pathsep.join(
            [str(root / BIN), str(workspace.engine_dir), str(Path(sys.executable).parent)]
        ),
        "PYTHONPATH": str(REPOSITORY),
        "PULUMI_HOME": str(workspace.home),
        "PULUMI_BACKEND_URL": workspace.state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": workspace.passphrase,
        **{name: quiet[name] for name in PULUMI_QUIET},
        ADMIN_USER_ENV: admin.access_key,
        ADMIN_PASSWORD_ENV: admin.secret_key,
        Env.CA_BUNDLE: str(root / "ca.pem"),
        Env.SPOOL_DIR: str(root / SPOOL),
        "SANDBOX": str(root),
    }


def script(project: Path, variables: Mapping[str, str]) -> str:
    """The text of ``env.sh``: ``cd`` into ``project``, then one ``export`` per variable."""
    lines = [
        "# The sandbox's shell (make sandbox): . this file in another shell, or paste it.",
        f"cd {shlex.quote(str(project))}",
    ]
    for name, value in variables.items():
        if name in ("PATH", "PYTHONPATH"):
            lines.append(f'export {name}={shlex.quote(value)}"${{{name}:+:${name}}}"')
        else:
            lines.append(f"export {name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"
