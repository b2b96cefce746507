"""Stacks deployed by ``pulumi up`` for the live tests, one per variant, shared by a session.

A *variant* is a stack file's stack with config overrides (``dev``, ``prod``, ``dev+public``:
:data:`VARIANTS`). :class:`Deployments` deploys each one the first time a test asks for it:
a child-process endpoint of its own (:class:`devtools.endpoint.child_process.EndpointProcess`, which
no other test resets), a throwaway engine workspace whose stack is the stack file's config
pointed at that endpoint through the stack's own keys, ``pulumi up`` with the endpoint's admin
as MINIO_USER/MINIO_PASSWORD, and ``pulumi stack output``. Later modules reuse it: the tests
write under a company of their own, as they do on a shared real MinIO, so a clean company
prefix needs no new deployment. One ``pulumi up`` costs seconds; a redeploy per module would
cost minutes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from devtools.endpoint.child_process import EndpointProcess
from devtools.endpoint.clients import ServedEndpoint
from devtools.engine.workspace import EngineWorkspace, admin_env, embedded_stack_config
from infra.render import render_stack
from tests.support import PUBLIC_OVERRIDES


@dataclass(frozen=True)
class Variant:
    """A stack of the stack files, with config overrides (``pulumi config set`` before up)."""

    stack: str
    overrides: Mapping[str, str] = field(default_factory=dict)


VARIANTS: Final = {
    "dev": Variant("dev"),
    "prod": Variant("prod"),
    "dev+public": Variant("dev", PUBLIC_OVERRIDES),
}


@dataclass(frozen=True)
class Deployment:
    """One variant after ``pulumi up``: where it runs, its config, outputs and up's output."""

    name: str
    stack: str
    endpoint: ServedEndpoint
    workspace: EngineWorkspace
    config: Mapping[str, str]  # the stack's whole config as set (endpoint and overrides)
    outputs: Mapping[str, Any]  # `pulumi stack output --json --show-secrets`
    printed: str  # what `pulumi up` printed

    @cached_property
    def render(self) -> dict[str, Any]:
        """The offline render of this very stack config (what the server must match)."""
        return render_stack(self.stack, self.config)


def deploy(
    engine_dir: Path, endpoint: ServedEndpoint, root: Path, name: str, variant: Variant
) -> Deployment:
    """``pulumi up`` of ``variant`` on ``endpoint``, in a new workspace under ``root``."""
    workspace = EngineWorkspace(engine_dir, root, env=admin_env(endpoint))
    config = {**embedded_stack_config(endpoint), **variant.overrides}
    workspace.init_stack(variant.stack, config)
    up = workspace.run("up", "-s", variant.stack, "--yes", "--skip-preview")
    return Deployment(
        name=name,
        stack=variant.stack,
        endpoint=endpoint,
        workspace=workspace,
        config=config,
        outputs=workspace.outputs(variant.stack),
        printed=up.output,
    )


class Deployments:
    """The session's deployments, by variant name, each made on first use; :meth:`close`
    stops their endpoints."""

    def __init__(self, engine_dir: Path, root: Path) -> None:
        self.engine_dir = engine_dir
        self.root = root
        self._made: dict[str, Deployment] = {}
        self._endpoints = contextlib.ExitStack()

    def __getitem__(self, name: str) -> Deployment:
        if name not in self._made:
            endpoint = EndpointProcess().start()
            self._endpoints.callback(endpoint.stop)
            self._made[name] = deploy(
                self.engine_dir, endpoint, self.root / name, name, VARIANTS[name]
            )
        return self._made[name]

    def close(self) -> None:
        """Stop every endpoint this session started."""
        self._endpoints.close()
