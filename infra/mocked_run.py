"""One run of the Pulumi program under mocks: no engine, provider plugin or server is needed.

:func:`pulumi.runtime.set_mocks` stands in for the engine (:mod:`infra.mocks` records every
registration). Each run happens in a fresh :class:`contextvars.Context`, because the Pulumi
runtime keeps its settings, config and root stack in context variables, and on an event loop of
its own that it closes behind it: that makes :func:`run_program` callable any number of times in
one process. As a last guard, a run fails if any secret the mocks generated appears anywhere in
its render.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import pulumi
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import StackConfig, parse_stack_config
from infra.mocks import Mocks, RecordingMonitor, ResourceRecord
from infra.program import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USER_ENV,
    main,
    refuse_admin_credentials_in_config,
)
from infra.project import REPOSITORY
from infra.render_format import PROJECT, RENDER_FIELDS, SECRET_MARKER
from infra.stack_file import StackValues, load_stack_values, own_keys


@dataclass
class ProgramRun:
    """Everything one mocked run of the program produced, for the render and the tests."""

    stack: str
    config: dict[str, Any]
    resources: list[ResourceRecord]
    outputs: dict[str, Any]  # masked
    plain_outputs: dict[str, Any] = field(repr=False)  # unmasked: tests only, never printed
    secret_outputs: set[str] = field(default_factory=set)
    generated_secrets: set[str] = field(default_factory=set, repr=False)

    def document(self) -> dict[str, Any]:
        """The render (format: docs/render-format.md)."""
        resources = [r.to_json() for r in sorted(self.resources, key=lambda r: (r.type, r.name))]
        values = (PROJECT, self.stack, self.config, resources, self.outputs)
        return dict(zip(RENDER_FIELDS, values, strict=True))


async def _resolve(value: Any) -> tuple[Any, bool]:
    output = pulumi.Output.from_input(value)
    return await output.future(), bool(await output.is_secret())


def _run(
    stack: str,
    values: StackValues,
    config: StackConfig,
    program_main: Callable[[], object] | None,
) -> ProgramRun:
    """One mocked run of the program; call it in a fresh context (see :func:`run_program`)."""
    mocks = Mocks()
    mocks.generated.update(values.stand_ins)
    monitor = RecordingMonitor(mocks)
    # The render must not read the renderer's environment: fixed, masked stand-ins.
    environ = {ADMIN_USER_ENV: "render-admin", ADMIN_PASSWORD_ENV: mocks.secret()}
    pulumi.runtime.set_all_config(values.raw, secret_keys=sorted(values.secret_keys))
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)

    plain: dict[str, Any] = {}
    secret_names: set[str] = set()

    async def program() -> None:
        if program_main is None:
            main(environ)
        else:
            program_main()
        root = get_root_resource()
        exported: dict[str, Any] = dict(getattr(root, "outputs", {}))
        for name, value in exported.items():
            plain[name], is_secret = await _resolve(value)
            if is_secret:
                secret_names.add(name)

    _sync_await(run_pulumi_func(program))
    masked = {name: SECRET_MARKER if name in secret_names else v for name, v in plain.items()}
    return ProgramRun(
        stack=stack,
        config=config.to_json(),
        resources=monitor.records,
        outputs=masked,
        plain_outputs=plain,
        secret_outputs=secret_names,
        generated_secrets=set(mocks.generated),
    )


_T = TypeVar("_T")


# One run at a time: the loops a run makes are told apart by watching the policy.
_RUNNING: Final = threading.Lock()


@contextlib.contextmanager
def _loops_made() -> Iterator[list[asyncio.AbstractEventLoop]]:
    """Every event loop made through the current policy meanwhile (pulumi's sync_await makes one
    per worker thread with ``asyncio.new_event_loop``), without scanning the heap."""
    policy = asyncio.get_event_loop_policy()
    made: list[asyncio.AbstractEventLoop] = []
    make = policy.new_event_loop

    def recording() -> asyncio.AbstractEventLoop:
        loop = make()
        made.append(loop)
        return loop

    policy.new_event_loop = recording  # type: ignore[method-assign]
    try:
        yield made
    finally:
        del policy.new_event_loop  # the class's own again


def _on_a_loop_of_its_own(work: Callable[[], _T]) -> _T:
    """Run ``work`` on a fresh event loop, then leave nothing open behind, like ``asyncio.run``.

    The mocks run on the thread's current loop and register resources from that loop's worker
    threads, where pulumi gives each thread a loop of its own that nobody closes. So: join the
    workers, close their loops and ours now, while their sockets are open (collected later, a loop
    can outlive its sockets and print a stray traceback; each also holds three descriptors).
    A caller's earlier ``asyncio.run()`` (a service, a test) does not matter either way.
    """
    with _RUNNING, _loops_made() as made:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return work()
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            for worker in made:
                if worker is not loop and not worker.is_closed() and not worker.is_running():
                    worker.close()
            asyncio.set_event_loop(None)
            loop.close()


def run_program(
    stack: str,
    overrides: Mapping[str, str] | None = None,
    program_main: Callable[[], object] | None = None,
    project: Path = REPOSITORY,
) -> ProgramRun:
    """Run the program for ``stack`` under mocks; the config is checked before anything runs.

    ``program_main`` replaces the program (tests pass a variant of it to see how options render);
    by default :func:`infra.program.main` runs, with stand-in credentials. ``project``: whose
    stack file (default: the committed one).
    """
    values = load_stack_values(stack, overrides, project)
    # Fail with the config error before any resource is made; the render shows this parse.
    refuse_admin_credentials_in_config(values.raw)
    config = parse_stack_config(own_keys(values.raw), values.secret_keys)
    run = _on_a_loop_of_its_own(
        lambda: contextvars.Context().run(_run, stack, values, config, program_main)
    )
    text = json.dumps(run.document(), sort_keys=True)
    if any(value in text for value in run.generated_secrets):
        raise RuntimeError("a secret reached the render unmasked; refusing to print it")
    return run
