"""The package's version: ``pyproject.toml``'s, as the installed distribution records it.

One definition (``[project] version``); ``voice-recordings --version`` and anything else that
needs it ask :func:`package_version`, never a copy of the number.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Final

DISTRIBUTION: Final = "voice-recordings"


def package_version() -> str:
    """The installed version of ``voice-recordings`` (``0.1.0``), or a line saying it is not
    installed (imported from a checkout: ``pip install .`` records it)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed: `pip install .` records the version)"
