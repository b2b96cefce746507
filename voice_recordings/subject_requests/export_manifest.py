"""``export``'s manifest, kept true while the export runs: an export cut off by Ctrl-C, a
failure or a crash leaves a manifest that says so and names every file it may have left.

The manifest is rewritten after each step (before an object's files are written, naming them as
``writing``; after them, listing them), each time as a fresh temporary file in the target that
is synced and renamed over the manifest (atomic: a reader sees the old or the new one, never
half). Its ``status`` is ``in progress`` until the end, then ``complete``, ``incomplete``
(something was not exported), ``interrupted`` (Ctrl-C) or ``failed`` (an error stopped it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from typing import Any, Final

MANIFEST: Final = "manifest.json"
STATUS_IN_PROGRESS: Final = "in progress"
STATUS_COMPLETE: Final = "complete"
STATUS_INCOMPLETE: Final = "incomplete"
STATUS_INTERRUPTED: Final = "interrupted"
STATUS_FAILED: Final = "failed"
# Personal data: only the person exporting may read what is written.
FILE_MODE: Final = 0o600
CREATE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ManifestWriter:
    """Writes ``manifest.json`` into the open target directory ``dir_fd``: first as a fresh
    file (never over one already there), then by atomic replacement of its own."""

    def __init__(self, dir_fd: int, header: dict[str, Any]) -> None:
        self._dir_fd = dir_fd
        self._header = header
        self.written = False

    def write(
        self,
        status: str,
        files: list[dict[str, Any]],
        not_exported: list[dict[str, Any]],
        writing: str | None = None,
    ) -> None:
        """Record the export's state; FileExistsError when the target already held a manifest
        before this export wrote one (it is never replaced)."""
        document = {
            **self._header,
            "status": status,
            "complete": status == STATUS_COMPLETE,
            # Being written when the manifest was: it may be absent or partial.
            "writing": None if writing is None else [writing, f"{writing}.json"],
            "files": files,
            "not_exported": not_exported,
        }
        data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
        if not self.written:
            write_new(self._dir_fd, MANIFEST, [data])
            self.written = True
            return
        temporary = f".{MANIFEST}.{secrets.token_hex(6)}.tmp"
        write_new(self._dir_fd, temporary, [data])
        try:
            os.replace(temporary, MANIFEST, src_dir_fd=self._dir_fd, dst_dir_fd=self._dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self._dir_fd)
            raise


def write_new(dir_fd: int, name: str, chunks: Iterable[bytes]) -> tuple[str, int]:
    """Create ``name`` fresh in the directory (never an existing file, never through a link)
    and write ``chunks``; the SHA-256 and size of exactly the bytes written."""
    fd = os.open(name, CREATE_FLAGS, FILE_MODE, dir_fd=dir_fd)
    digest, size = hashlib.sha256(), 0
    try:
        os.fchmod(fd, FILE_MODE)  # exactly 0600, whatever the umask took away
        with os.fdopen(fd, "wb") as sink:
            for chunk in chunks:
                digest.update(chunk)
                sink.write(chunk)
                size += len(chunk)
            sink.flush()
            os.fsync(sink.fileno())
    except BaseException:
        os.unlink(name, dir_fd=dir_fd)  # ours, half written: no manifest names it
        raise
    return digest.hexdigest(), size
