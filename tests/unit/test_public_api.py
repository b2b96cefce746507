"""The runtime package's public face: every name ``voice_recordings.__all__`` lists resolves, the
ones loaded on first use (PEP 562) to the object their module defines, and importing the
package alone loads neither boto3 nor prometheus_client (its docstring's promise)."""

from __future__ import annotations

import json

import voice_recordings
from tests.support import run_python


def test_every_name_in_all_resolves_in_a_fresh_interpreter() -> None:
    # A child process: here, other tests have already imported what the package loads lazily.
    found = json.loads(
        run_python(
            """
            import importlib, json, sys
            import voice_recordings
            heavy = [m for m in ("boto3", "botocore", "prometheus_client") if m in sys.modules]
            lazy = voice_recordings._ON_FIRST_USE
            resolved, same = [], []
            for name in voice_recordings.__all__:
                value = getattr(voice_recordings, name)
                resolved.append(name)
                if name in lazy:
                    same.append(value is getattr(importlib.import_module(lazy[name]), name))
            print(json.dumps({"heavy": heavy, "resolved": resolved, "same": same}))
            """
        )
    )
    assert found["heavy"] == []
    assert found["resolved"] == list(voice_recordings.__all__)
    assert found["same"] and all(found["same"])


def test_every_name_loaded_on_first_use_is_public_and_listed_by_dir() -> None:
    assert set(voice_recordings._ON_FIRST_USE) <= set(voice_recordings.__all__)
    assert set(voice_recordings.__all__) <= set(dir(voice_recordings))
    assert len(set(voice_recordings.__all__)) == len(voice_recordings.__all__)
