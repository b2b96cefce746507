"""Offline render: run the Pulumi program under mocks and print each stack's desired state as JSON.

    python -m infra.render --stack prod [--config KEY=VALUE ...] [--output FILE]

No engine, provider plugin or server is needed: :func:`pulumi.runtime.set_mocks` stands in for the
engine, and a recording resource monitor keeps every registration exactly as the engine would get
it (type, logical name, parent, ``protect``, ``retainOnDelete``, wire-format inputs). Secrets are
found by Pulumi's own secret marker on the wire (``Output.secret``, pulumi-random results, the
provider's credentials) and printed as ``"[secret]"``; as a second guard, the render refuses to
finish if any secret the mocks generated appears anywhere in it. Policy documents are parsed into
JSON objects. The format is described in docs/render-format.md; its field names, type tokens,
secret marker and namespace are defined once in :mod:`infra.render_format`.

Each render runs in a fresh :class:`contextvars.Context`, because the Pulumi runtime keeps its
settings, config and root stack in context variables: that makes :func:`render_stack` callable
any number of times in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import secrets
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import pulumi
import yaml
from google.protobuf import json_format  # type: ignore[import-untyped]
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import alias_pb2, resource_pb2
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.adoption import ADOPT_OVERRIDES
from infra.config import (
    COMPANY_RETENTION_KEY,
    NAMESPACE,
    SECRET_KEYS,
    StackConfigError,
    full_key,
    parse_stack_config,
)
from infra.program import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USER_ENV,
    PROVIDER_NAMESPACE,
    main,
    refuse_admin_credentials_in_config,
)
from infra.project import REPOSITORY, stack_file_name, stack_names
from infra.render_format import (
    OPTIONAL_RESOURCE_FIELDS,
    POLICY_INPUT,
    PROJECT,
    RANDOM_PASSWORD,
    RENDER_FIELDS,
    RESOURCE_FIELDS,
    SECRET_MARKER,
    SERVICE_ACCOUNT,
    STACK,
)

REPO_ROOT: Final = REPOSITORY
RENDERED_DIR: Final = REPO_ROOT / "policies" / "rendered"

# Pulumi's wire markers (pulumi/sdk: rpc.py), stable across SDK versions.
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# Resource outputs the mocks must invent, by type: each is a fresh random secret per run.
_GENERATED_OUTPUTS: Final[dict[str, tuple[str, ...]]] = {
    RANDOM_PASSWORD: ("result", "bcryptHash"),
    SERVICE_ACCOUNT: ("accessKey", "secretKey"),
}


def stack_file(stack: str, project: Path = REPO_ROOT) -> Path:
    """``Pulumi.<stack>.yaml`` of ``project`` (default: the repository root, the committed one)."""
    return project / stack_file_name(stack)


def known_stacks(project: Path = REPO_ROOT) -> list[str]:
    """The stacks that have a stack file in ``project``."""
    return stack_names(project)


def _as_config_string(key: str, value: object) -> str:
    # Pulumi hands every config value to the program as a string; YAML gave us typed scalars.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, dict) and not _is_secure(value):
        # An object (`pulumi config set --path`): the engine hands it over as JSON text.
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    raise StackConfigError(
        f"{key} must be a plain value (string, number or bool) or an object, got {value!r}"
    )


def _qualify(key: str) -> str:
    # Like the Pulumi CLI: a key without a namespace belongs to the project.
    return key if ":" in key else f"{PROJECT}:{key}"


@dataclass(frozen=True)
class StackValues:
    """A stack's raw config as the engine would hand it to the program."""

    raw: dict[str, str]  # this project's and the provider's keys, as strings
    secret_keys: frozenset[str]  # keys stored encrypted (`secure:` in the stack file)
    stand_ins: frozenset[str] = field(default_factory=frozenset, repr=False)  # for the leak guard


def _is_secure(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def load_stack_values(
    stack: str, overrides: Mapping[str, str] | None = None, project: Path = REPO_ROOT
) -> StackValues:
    """The stack file's config (this project's and the provider's keys), then ``overrides``;
    the stack file of ``project`` (default: the committed one).

    The render cannot decrypt: a ``secure:`` value becomes a random stand-in, marked secret. An
    override of a :data:`~infra.config.SECRET_KEYS` key counts as ``pulumi config set --secret``.
    """
    path = stack_file(stack, project)
    if not path.is_file():
        raise StackConfigError(
            f"no stack file {path} for stack {stack!r}; known stacks: {known_stacks(project)}"
        )
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = document.get("config") or {}
    if not isinstance(entries, dict):
        raise StackConfigError(f"{path.name}: 'config' must be a mapping")
    raw: dict[str, str] = {}
    secret: set[str] = set()
    stand_ins: set[str] = set()
    secret_overrides = {full_key(key) for key in SECRET_KEYS}
    for key, value in {**entries, **dict(overrides or {})}.items():
        name = _qualify(str(key))
        if not name.startswith((f"{NAMESPACE}:", f"{PROVIDER_NAMESPACE}:")):
            continue
        if _is_secure(value):
            raw[name] = secrets.token_urlsafe(32)
            stand_ins.add(raw[name])
            secret.add(name)
        else:
            raw[name] = _as_config_string(name, value)
            if overrides and key in overrides and name in secret_overrides:
                secret.add(name)
                stand_ins.add(raw[name])
    return StackValues(raw, frozenset(secret), frozenset(stand_ins))


def load_stack_config(
    stack: str, overrides: Mapping[str, str] | None = None, project: Path = REPO_ROOT
) -> dict[str, str]:
    """The raw config of this project's namespace from the stack file (of ``project``), then
    ``overrides``."""
    values = load_stack_values(stack, overrides, project).raw
    return {key: value for key, value in values.items() if key.startswith(f"{NAMESPACE}:")}


@dataclass
class ResourceRecord:
    """One resource registration as the engine received it (inputs already masked)."""

    type: str
    name: str
    urn: str
    parent: str | None
    protect: bool
    retain_on_delete: bool
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    ignore_changes: list[str] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    import_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The resource in the render's format.

        Beside the inputs, what the engine is told about ordering and lifetime: ``depends_on``
        (logical names of every resource it waits for), ``ignore_changes``, and, only when set,
        ``aliases`` and ``import``, so a reviewer sees them in the diff and guardrails check them.
        """
        values = (
            self.type,
            self.name,
            self.parent,
            self.protect,
            self.retain_on_delete,
            self.dependencies,
            self.ignore_changes,
            self.inputs,
        )
        document: dict[str, Any] = dict(zip(RESOURCE_FIELDS, values, strict=True))
        for name, value in zip(
            OPTIONAL_RESOURCE_FIELDS, (self.aliases, self.import_id), strict=True
        ):
            if value:
                document[name] = value
        return document


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


class _Mocks(pulumi_mocks.Mocks):
    """Echo inputs as outputs and invent random secrets for what a provider would generate."""

    def __init__(self) -> None:
        self.generated: set[str] = set()

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        for name in _GENERATED_OUTPUTS.get(args.typ, ()):
            outputs[name] = self.secret()
        return f"{args.name}-id", outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None

    def secret(self) -> str:
        """A fresh random value, remembered so the render can prove it never leaks."""
        value = secrets.token_hex(20)
        self.generated.add(value)
        return value


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _mask(value: Any) -> Any:
    """Wire value (from the protobuf Struct as a dict) -> plain JSON, secrets as "[secret]"."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return SECRET_MARKER
        if sig == _RESOURCE_SIG:
            return {"resource": _urn_name(str(value.get("urn", "")))}
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct numbers are doubles; the program sent integers
    if value == _UNKNOWN:
        raise RuntimeError("an input is unknown under mocks: the render needs known values")
    return value


def _parse_policy(inputs: dict[str, Any]) -> dict[str, Any]:
    document = inputs.get(POLICY_INPUT)
    if isinstance(document, str) and document != SECRET_MARKER:
        return {**inputs, POLICY_INPUT: json.loads(document)}
    return inputs


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, keeping each registration request as the engine would receive it."""

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []

    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != STACK:
            wire = json_format.MessageToDict(request.object)
            parent = request.parent
            parent_is_stack = not parent or parent.endswith("::" + _stack_name())
            self.records.append(
                ResourceRecord(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=None if parent_is_stack else _urn_name(parent),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider or None,
                    dependencies=sorted({_urn_name(d) for d in request.dependencies}),
                    inputs=_parse_policy(_mask(wire)),
                    ignore_changes=sorted(request.ignoreChanges),
                    aliases=[_alias(alias) for alias in request.aliases],
                    import_id=request.importId,
                )
            )
        return response


def _own(raw: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in raw.items() if key.startswith(f"{NAMESPACE}:")}


def _alias(alias: alias_pb2.Alias) -> dict[str, Any]:
    """One alias as the engine gets it: a full URN, or a spec (name, type, parent ...)."""
    if alias.urn:
        return {"urn": alias.urn}
    spec: dict[str, Any] = json_format.MessageToDict(alias.spec)
    if "parentUrn" in spec:
        spec["parent"] = _urn_name(spec.pop("parentUrn"))
    return spec


def _stack_name() -> str:
    return f"{pulumi.get_project()}-{pulumi.get_stack()}"


async def _resolve(value: Any) -> tuple[Any, bool]:
    output = pulumi.Output.from_input(value)
    return await output.future(), bool(await output.is_secret())


def _run(stack: str, values: StackValues, program_main: Callable[[], object] | None) -> ProgramRun:
    """One mocked run of the program; call it in a fresh context (see :func:`run_program`)."""
    mocks = _Mocks()
    mocks.generated.update(values.stand_ins)
    monitor = _RecordingMonitor(mocks)
    # The render must not read the renderer's environment: fixed, masked stand-ins.
    environ = {ADMIN_USER_ENV: "render-admin", ADMIN_PASSWORD_ENV: mocks.secret()}
    raw = values.raw
    pulumi.runtime.set_all_config(raw, secret_keys=sorted(values.secret_keys))
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
    config = parse_stack_config(_own(raw)).to_json()
    masked = {name: SECRET_MARKER if name in secret_names else v for name, v in plain.items()}
    return ProgramRun(
        stack=stack,
        config=config,
        resources=monitor.records,
        outputs=masked,
        plain_outputs=plain,
        secret_outputs=secret_names,
        generated_secrets=set(mocks.generated),
    )


_T = TypeVar("_T")


# One render at a time: the loops a render makes are told apart by watching the policy.
_RENDERING: Final = threading.Lock()


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
    with _RENDERING, _loops_made() as made:
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
    project: Path = REPO_ROOT,
) -> ProgramRun:
    """Run the program for ``stack`` under mocks; the config is checked before anything runs.

    ``program_main`` replaces the program (tests pass a variant of it to see how options render);
    by default :func:`infra.program.main` runs, with stand-in credentials. ``project``: whose
    stack file (default: the committed one).
    """
    values = load_stack_values(stack, overrides, project)
    # Fail with the config error before any resource is made.
    refuse_admin_credentials_in_config(values.raw)
    parse_stack_config(_own(values.raw), values.secret_keys)
    run = _on_a_loop_of_its_own(
        lambda: contextvars.Context().run(_run, stack, values, program_main)
    )
    text = json.dumps(run.document(), sort_keys=True)
    if any(value in text for value in run.generated_secrets):
        raise RuntimeError("a secret reached the render unmasked; refusing to print it")
    return run


def render_stack(stack: str, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The desired state of ``stack`` as the render's JSON object (secrets masked)."""
    return run_program(stack, overrides).document()


def render_text(stack: str, overrides: Mapping[str, str] | None = None) -> str:
    """:func:`render_stack` as the exact text of the committed snapshot."""
    return json.dumps(render_stack(stack, overrides), indent=2, sort_keys=True) + "\n"


def snapshot_path(stack: str) -> Path:
    """``policies/rendered/<stack>.json``."""
    return RENDERED_DIR / f"{stack}.json"


# One company keeping its recordings five years and its transcripts two (an example for review).
COMPANY_RETENTION_OVERRIDES: Final[dict[str, str]] = {
    full_key(COMPANY_RETENTION_KEY): '{"42":{"transcript":730,"voice":1825}}'
}

# Committed renders of a stack with overrides, beside one per stack file: name -> (stack,
# overrides). prod-adopt is production taking over the hand-made storage (imports), so the
# takeover plan is reviewed in a diff and checked by the guardrails; prod-company-retention is
# production with one company keeping its recordings longer (docs/operating.md, "Retention per
# company"), so the rules it takes are reviewed and checked the same way.
VARIANTS: Final[dict[str, tuple[str, Mapping[str, str]]]] = {
    "prod-adopt": ("prod", ADOPT_OVERRIDES),
    "prod-company-retention": ("prod", COMPANY_RETENTION_OVERRIDES),
}


def committed_renders() -> dict[str, tuple[str, Mapping[str, str]]]:
    """Every committed render's name (``policies/rendered/<name>.json``) -> (stack, overrides):
    one per stack file, then the :data:`VARIANTS` (``make render`` writes them all)."""
    return {**{stack: (stack, {}) for stack in known_stacks()}, **VARIANTS}


def current_text(name: str) -> str:
    """The text the program renders now for the committed render ``name``."""
    stack, overrides = committed_renders()[name]
    return render_text(stack, overrides)


def stale_renders(directory: Path = RENDERED_DIR) -> list[str]:
    """One line for each committed render in ``directory`` that is not what the program renders
    now (missing, different, or rendered by no stack or variant); empty when all are current."""
    names = committed_renders()
    problems = [
        f"{_shown(directory / f'{name}.json')} is stale: the program renders it differently; "
        "run `make render`"
        for name in names
        if not (directory / f"{name}.json").is_file()
        or (directory / f"{name}.json").read_text(encoding="utf-8") != current_text(name)
    ]
    problems += [
        f"{_shown(path)} is no stack's or variant's render any more: remove it"
        for path in sorted(directory.glob("*.json"))
        if path.stem not in names
    ]
    return problems


def _shown(path: Path) -> Path:
    # policies/rendered/prod.json, as a reviewer finds it in the pull request.
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def parse_override(text: str) -> tuple[str, str]:
    """``--config KEY=VALUE``: the key qualified as the Pulumi CLI does, and the value."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--config wants KEY=VALUE, got {text!r}")
    return _qualify(key), value


def cli(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.render``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.render", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--stack", help=f"one of {known_stacks()}")
    parser.add_argument(
        "--variant",
        choices=sorted(VARIANTS),
        help="write the committed render of a stack with overrides (policies/rendered/NAME.json)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        type=parse_override,
        metavar="KEY=VALUE",
        help="override a stack config value, like `pulumi up --config` (repeatable); a secret "
        "key (voice-recordings:voiceAiServiceToken) counts as set with --secret",
    )
    parser.add_argument("--output", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    if args.variant:
        stack, overrides = VARIANTS[args.variant]
        args.stack, args.output = stack, args.output or snapshot_path(args.variant)
        args.config = [*overrides.items(), *args.config]
    elif not args.stack:
        parser.error("--stack or --variant is required")
    try:
        text = render_text(args.stack, dict(args.config))
    except StackConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
