"""Spools another user owns, for the tests of what the spool trusts: that user, ``chown``
of a tree to them, an entry as the uploader writes it, and ``voice-recordings replay`` run as
root or as them (tests/unit/test_spool_trust.py, tests/unit/test_fix_lines.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from tests.support import ROOT, spool_entry
from voice_recordings.keys import recording_key
from voice_recordings.metadata import object_metadata
from voice_recordings.settings import Env
from voice_recordings.spool.spool import Spool

OTHER_UID: Final = 65534  # nobody
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
OFFLINE_ENV: Final = {
    Env.ENDPOINT: "127.0.0.1:9",
    Env.ACCESS_KEY: "AKIAEXAMPLE",
    Env.SECRET_KEY: "unit-test-secret-not-real",
    Env.USE_SSL: "false",
    Env.MAX_ATTEMPTS: "1",
}


def add(spool: Spool, company: int = 5, call: str = "abc-123") -> Path:
    meta = object_metadata(call, company, uploaded_at=WHEN)
    key = recording_key(company, call, WHEN)
    return spool_entry(spool, key, meta, b"audio")


def chown_tree(path: Path, uid: int) -> None:
    os.lchown(path, uid, uid)
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            chown_tree(child, uid)


# The CLI as another user: this interpreter lives under /root, which that user cannot read, so
# the child imports the CLI first and then drops to the user (so every spool access is theirs).
AS_OTHER_USER: Final = f"""
import _strptime, os, sys  # _strptime: imported lazily by strptime, from under /root
from voice_recordings import cli
os.setgroups([]); os.setgid({OTHER_UID}); os.setuid({OTHER_UID})
sys.exit(cli.main(["replay"]))
"""


def replay_cli(spool_dir: Path, *, as_other_user: bool = False) -> tuple[int, str, str]:
    """``voice-recordings replay`` in a child process (as :data:`OTHER_UID` if asked)."""
    command = ["-c", AS_OTHER_USER] if as_other_user else ["-m", "voice_recordings.cli", "replay"]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        **OFFLINE_ENV,
        Env.SPOOL_DIR: str(spool_dir),
    }
    done = subprocess.run(
        [sys.executable, *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@contextlib.contextmanager
def shared_dir() -> Iterator[Path]:
    """A directory another user can reach (pytest's tmp_path is root's alone)."""
    name = tempfile.mkdtemp(prefix="spool-trust-")
    os.chmod(name, 0o755)
    try:
        yield Path(name)
    finally:
        shutil.rmtree(name, ignore_errors=True)
