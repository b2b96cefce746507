"""The sandbox's Pulumi project: ``dev`` deployed, ``prod`` ready, each on its own storage.

An :class:`~devtools.engine.workspace.EngineWorkspace` at the sandbox's directory (a project
directory of its own, :func:`infra.project.make_project`; a local backend, a generated
passphrase, a ``PULUMI_HOME`` with the ``minio`` and ``random`` plugins installed), whose stacks
are the stack files' config pointed at their storage through the stack's own keys
(:func:`~devtools.engine.workspace.embedded_stack_config`), as every test stack is. ``dev`` is
deployed with ``pulumi up`` and selected, and its ``.env`` blocks written (0600) where
:attr:`SandboxStacks.blocks` says; ``prod`` is made, not deployed: docs/operating.md's
"Deploying" deploys it. :meth:`SandboxStacks.restart_prod` gives ``prod`` a new start on a
replaced storage (the takeover's hand-made one): its state forgotten, its stack file the
clone's again, pointed at the same address.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from devtools.engine.workspace import EngineWorkspace, admin_env, embedded_stack_config
from devtools.sandbox.place import write_private
from devtools.sandbox.storage import Storage
from infra.project import REPOSITORY, seed_stack_file, stack_file_name

DEPLOYED: Final = "dev"
READY: Final = "prod"
# Stack output -> the file its block goes to, as docs/operating.md names them.
BLOCKS: Final = {
    "voice_ai_env": "voice-ai.env",
    "omniplay_env": "omniplay.env",
    "steward_env": "steward.env",
}


class SandboxStacks:
    """The project under ``root`` for the engine in ``engine_dir``, each stack of ``storages``
    (stack -> its storage) pointed at its storage."""

    def __init__(self, engine_dir: Path, root: Path, storages: Mapping[str, Storage]) -> None:
        self.storages = storages
        self.workspace = EngineWorkspace(engine_dir, root, env=admin_env(storages[DEPLOYED]))
        self.blocks = root / "blocks"
        self.blocks.mkdir(mode=0o700)

    def prepare(self) -> None:
        """``prod`` made, ``dev`` made, deployed and selected, its blocks written."""
        self.workspace.init_stack(READY, embedded_stack_config(self.storages[READY]))
        self.workspace.init_stack(DEPLOYED, embedded_stack_config(self.storages[DEPLOYED]))
        self.workspace.run("up", "-s", DEPLOYED, "--yes", "--skip-preview")
        self.write_blocks(DEPLOYED)

    def write_blocks(self, stack: str) -> dict[str, Path]:
        """Each ``.env`` block of ``stack`` in ``blocks/<stack>/`` (0600); the files by output."""
        directory = self.blocks / stack
        directory.mkdir(mode=0o700, exist_ok=True)
        outputs = self.workspace.outputs(stack)
        written: dict[str, Path] = {}
        for output, name in BLOCKS.items():
            write_private(directory / name, str(outputs[output]))
            written[output] = directory / name
        return written

    def restart_prod(self) -> None:
        """``prod`` from scratch on its (replaced) storage: the stack removed from the backend,
        its stack file the clone's again, made anew and selected."""
        project = self.workspace.project
        self.workspace.run("stack", "rm", READY, "--force", "--yes", check=False)
        seed_stack_file(
            REPOSITORY / stack_file_name(READY), project / stack_file_name(READY), keep_secure=False
        )
        self.workspace.init_stack(READY, embedded_stack_config(self.storages[READY]))
