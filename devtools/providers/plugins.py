"""The stand-in plugins by name, and :func:`install`, which writes their executables."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Final

from devtools.providers import random_provider
from devtools.providers.server import Plugin

PLUGINS: Final[dict[str, Plugin]] = {
    random_provider.NAME: random_provider.PLUGIN,
}


def install(directory: Path, only: str | None = None) -> Path:
    """Write ``pulumi-resource-<name>`` for every stand-in plugin (or the one named ``only``)
    into ``directory``; return it. A plugin cache entry (``$PULUMI_HOME/plugins/resource-<name>-
    v<version>``) holds one; a directory first on the engine's PATH may hold both."""
    # Imported here: the plugin process imports this module for PLUGINS, and its start is paid
    # on every preview (infra.project brings in PyYAML).
    from infra.project import REPOSITORY

    directory.mkdir(parents=True, exist_ok=True)
    for name in [only] if only else PLUGINS:
        executable = directory / f"pulumi-resource-{name}"
        executable.write_text(
            "#!/bin/sh\n"
            f"# The stand-in {name} provider of {REPOSITORY} (devtools/providers).\n"
            f"cd {shlex.quote(str(REPOSITORY))} && exec {shlex.quote(sys.executable)} "
            f'-m devtools.providers {name} "$@"\n',
            encoding="utf-8",
        )
        executable.chmod(0o755)
    return directory
