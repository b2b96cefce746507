"""Shared runs of the Pulumi program under mocks (each stack once per test session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pytest

from infra.render import ProgramRun, ResourceRecord, run_program

STACKS: Final = ("prod", "dev")
PUBLIC_OPT_IN: Final = {
    "voice-recordings:publicRecordings": "true",
    "voice-recordings:acknowledgePublicRecordings": "true",
}

_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], ProgramRun] = {}


def program_run(stack: str, overrides: dict[str, str] | None = None) -> ProgramRun:
    """The (cached) mocked run of ``stack`` with ``overrides``."""
    key = (stack, tuple(sorted((overrides or {}).items())))
    if key not in _CACHE:
        _CACHE[key] = run_program(stack, overrides)
    return _CACHE[key]


@pytest.fixture(params=STACKS)
def run(request: pytest.FixtureRequest) -> ProgramRun:
    """The run of each committed stack file."""
    return program_run(str(request.param))


@pytest.fixture
def runner() -> Callable[..., ProgramRun]:
    """Run any stack with overrides."""
    return program_run


def only(run: ProgramRun, type_suffix: str, name: str | None = None) -> ResourceRecord:
    """The one resource whose type ends with ``type_suffix`` (and has ``name``, if given)."""
    found = [
        r
        for r in run.resources
        if r.type.endswith(type_suffix) and (name is None or r.name == name)
    ]
    assert len(found) == 1, f"expected one {type_suffix} {name or ''}, got {found}"
    return found[0]
