"""Directories only their owner may enter: made 0700 with every missing parent, whatever the
umask, and nothing that already existed is touched.

``Path.mkdir(mode=0o700, parents=True)`` gives the parents the umask's mode (0755 under
``umask 022``, 0777 under ``umask 000``), and the umask may take bits from the leaf too; the
spool and ``export`` hold personal data, so each directory they make is exactly 0700.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

# The permission bits of a directory of ours: its owner's alone.
PRIVATE_MODE: Final = 0o700


def make_private_dirs(directory: Path) -> list[Path]:
    """Create ``directory`` and each missing parent with mode 0700; the ones this call made,
    outermost first. An existing directory keeps its mode (it may be shared on purpose)."""
    missing = []
    path = directory
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    made = []
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process: theirs
            os.mkdir(path, PRIVATE_MODE)
            os.chmod(path, PRIVATE_MODE)  # exactly 0700, whatever the umask took away
            made.append(path)
    return made
