"""Fixtures of the guardrail tests: each committed render, and the opt-in public render."""

from __future__ import annotations

import pytest

from tests.guardrails.renders import COMMITTED_STACKS, Render, load_committed, load_public


@pytest.fixture(params=COMMITTED_STACKS)
def committed(request: pytest.FixtureRequest) -> Render:
    """Each committed render."""
    return load_committed(request.param)


@pytest.fixture
def public() -> Render:
    """The prod render with public recordings opted into and acknowledged."""
    return load_public()
