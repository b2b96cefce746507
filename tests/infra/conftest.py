"""Fixtures over the shared runs of the Pulumi program under mocks (each stack once per session).

The helpers (``STACKS``, ``PUBLIC_OPT_IN``, :func:`program_run`, :func:`only`) are in
``tests/support.py``, which tests import.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.mocked_run import ProgramRun
from tests.support import STACKS, program_run


@pytest.fixture(params=STACKS)
def run(request: pytest.FixtureRequest) -> ProgramRun:
    """The run of each committed stack file."""
    return program_run(str(request.param))


@pytest.fixture
def runner() -> Callable[..., ProgramRun]:
    """Run any stack with overrides."""
    return program_run
