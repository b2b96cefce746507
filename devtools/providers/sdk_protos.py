"""Pulumi's generated protocol modules for the plugin process, without the SDK's ``__init__``.

``import pulumi.runtime.proto`` runs ``pulumi/__init__.py`` first, which imports the whole SDK
(the automation API, dill, ...): 0.3 CPU-seconds at every start of the stand-in plugin, and the
engine starts it on every preview and update. The generated modules import nothing of the SDK
but each other (``from . import plugin_pb2``), so the plugin's entry point registers their three
parent packages as bare packages (their directories, not their code) before importing them.
Only a process that never imports the SDK itself may do this: a later ``import pulumi`` there
would get the bare package. So only the plugin's ``__main__`` calls it.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

_PARENTS = ("pulumi", "pulumi.runtime", "pulumi.runtime.proto")


def register_bare_parents() -> None:
    """Register ``pulumi``, ``pulumi.runtime`` and ``pulumi.runtime.proto`` as bare packages
    (nothing when the SDK is imported already)."""
    if "pulumi" in sys.modules:
        return
    spec = importlib.util.find_spec("pulumi")  # a top-level spec: found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the Pulumi SDK is not installed: run `make venv`")
    root = Path(next(iter(spec.submodule_search_locations)))
    for name, directory in zip(
        _PARENTS, (root, root / "runtime", root / "runtime" / "proto"), strict=True
    ):
        package = types.ModuleType(name)
        package.__path__ = [str(directory)]
        sys.modules[name] = package
