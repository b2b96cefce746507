"""The two library internals we patch, held to the versions the patches were written for.

Each patch reaches past a library's public API, so a new version can move what it relies on
without any error: the secrets would reach the rules in plaintext, or the upload deadline would
stop ending requests. When ``constraints.txt`` pins another version, this test fails naming what
to re-check; once it is re-checked, the new version goes in :data:`WRITTEN_FOR`.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Final, NamedTuple

import pytest

CONSTRAINTS: Final = Path(__file__).resolve().parent.parent / "constraints.txt"


class Patch(NamedTuple):
    """A patch of a library's internals: the version it was written for, what to re-check."""

    version: str
    recheck: str


WRITTEN_FOR: Final[dict[str, Patch]] = {
    "pulumi_policy": Patch(
        "1.21.0",
        "policies/guardrails/pack.py (mask_secrets_before_validation): pulumi_policy/policy.py "
        "still calls the module-level deserialize_properties(props, proxy_secrets) on every "
        "Analyze and AnalyzeStack request's properties, and nothing earlier unwraps the "
        "engine's secret marks",
    ),
    "botocore": Patch(
        "1.44.8",
        "voice_recordings/deadline.py (install): botocore/httpsession.py's URLLib3Session still "
        "builds every pool, its proxies' too, from the one dict _pool_classes_by_scheme, with "
        "AWSHTTP(S)ConnectionPool and their ConnectionCls (botocore/awsrequest.py) as the "
        "classes the deadline's subclasses extend",
    ),
}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _pinned() -> dict[str, str]:
    """``constraints.txt``'s ``name==version`` lines, by canonical name."""
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_canonical(name)] = version.strip()
    return pins


@pytest.mark.parametrize("package", sorted(WRITTEN_FOR))
def test_the_patched_library_is_pinned_at_the_version_its_patch_was_written_for(
    package: str,
) -> None:
    patch = WRITTEN_FOR[package]
    pinned = _pinned().get(_canonical(package))
    assert pinned == patch.version, (
        f"constraints.txt pins {package}=={pinned}, but the patch of its internals was written "
        f"for {patch.version}: re-check {patch.recheck}; then set WRITTEN_FOR[{package!r}] to "
        f"{pinned!r} (tests/test_patched_internals.py)"
    )


@pytest.mark.parametrize("package", sorted(WRITTEN_FOR))
def test_the_installed_library_is_the_pinned_one(package: str) -> None:
    installed = metadata.version(package)
    assert installed == _pinned().get(_canonical(package)), (
        f"{package} {installed} is installed, not constraints.txt's pin: reinstall with "
        f"`make venv` (the patch of its internals is checked against the pin)"
    )
