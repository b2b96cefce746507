"""A stack file's config as the engine would hand it to the program, read without the engine.

The offline render, the takeover tools and the tests read ``Pulumi.<stack>.yaml`` here: this
project's keys and the provider's, every value a string as Pulumi passes it, and a ``secure:``
value replaced by a random stand-in marked secret (only the stack's backend can decrypt it).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from infra.config import NAMESPACE, SECRET_KEYS, StackConfigError, full_key
from infra.program import PROVIDER_NAMESPACE
from infra.project import REPOSITORY, is_secure, stack_file_name, stack_names
from infra.render_format import PROJECT


def stack_file(stack: str, project: Path = REPOSITORY) -> Path:
    """``Pulumi.<stack>.yaml`` of ``project`` (default: the repository root, the committed one)."""
    return project / stack_file_name(stack)


def known_stacks(project: Path = REPOSITORY) -> list[str]:
    """The stacks that have a stack file in ``project``."""
    return stack_names(project)


def qualify(key: str) -> str:
    """A config key as the Pulumi CLI takes it: one without a namespace belongs to the project."""
    return key if ":" in key else f"{PROJECT}:{key}"


def own_keys(raw: Mapping[str, str]) -> dict[str, str]:
    """The keys of this project's namespace in ``raw`` (not the provider's)."""
    return {key: value for key, value in raw.items() if key.startswith(f"{NAMESPACE}:")}


def _as_config_string(key: str, value: object) -> str:
    # Pulumi hands every config value to the program as a string; YAML gave us typed scalars.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, dict) and not is_secure(value):
        # An object (`pulumi config set --path`): the engine hands it over as JSON text.
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    raise StackConfigError(
        f"{key} must be a plain value (string, number or bool) or an object, got {value!r}"
    )


@dataclass(frozen=True)
class StackValues:
    """A stack's raw config as the engine would hand it to the program."""

    raw: dict[str, str]  # this project's and the provider's keys, as strings
    secret_keys: frozenset[str]  # keys stored encrypted (`secure:` in the stack file)
    stand_ins: frozenset[str] = field(default_factory=frozenset, repr=False)  # for the leak guard


def load_stack_values(
    stack: str, overrides: Mapping[str, str] | None = None, project: Path = REPOSITORY
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
        name = qualify(str(key))
        if not name.startswith((f"{NAMESPACE}:", f"{PROVIDER_NAMESPACE}:")):
            continue
        if is_secure(value):
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
    stack: str, overrides: Mapping[str, str] | None = None, project: Path = REPOSITORY
) -> dict[str, str]:
    """The raw config of this project's namespace from the stack file (of ``project``), then
    ``overrides``."""
    return own_keys(load_stack_values(stack, overrides, project).raw)
