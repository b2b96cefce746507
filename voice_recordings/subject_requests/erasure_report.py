"""The erasure report: a journal a data-protection officer files, written as the erasure goes.

One JSON object per line (JSON Lines), appended and flushed to disk as each thing happens: the
run, the marker, the versions about to be removed (before the request that removes them), each
one removed or failed, what landed after the erasure, the final check, or an interruption. So
the record survives Ctrl-C, a crash or a killed process, and a second run of the same request
appends to the same file: it is never overwritten. The file is opened (created 0600, never
through a link) before anything is deleted, so a path that cannot be written is refused first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from voice_recordings.errors import InvalidInputError
from voice_recordings.metadata import format_timestamp


class ErasureRequest(Protocol):
    """What the report needs of an erasure's request
    (:class:`voice_recordings.subject_requests.erasure.ErasureRequest`)."""

    @property
    def company_id(self) -> int: ...
    @property
    def call_uuid(self) -> str | None: ...
    def describe(self) -> str: ...


REPORT_SUFFIX: Final = ".jsonl"
_OPEN_FLAGS: Final = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def default_report_name(request: ErasureRequest) -> str:
    """``erasure-company_5-abc-123.jsonl``: one file per request, so a rerun appends to it."""
    call = f"-{request.call_uuid}" if request.call_uuid else ""
    return f"erasure-company_{request.company_id}{call}{REPORT_SUFFIX}"


def _request_of(line: str) -> dict[str, Any] | None:
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        first = json.loads(line)
        if first.get("event") == "run":
            request: dict[str, Any] = first["request"]
            return request
    return None


@dataclass
class ReportJournal:
    """An open erasure report; :meth:`write` appends one event and syncs it to disk."""

    path: Path
    fd: int

    @classmethod
    def open(cls, path: Path, request: ErasureRequest) -> ReportJournal:
        """Open ``path`` to append (InvalidInputError, naming the fix, if it cannot be used)."""
        try:
            fd = os.open(path, _OPEN_FLAGS, 0o600)
        except IsADirectoryError:
            raise InvalidInputError(
                f"--report {path} is a directory: give a file name, e.g. "
                f"{path / default_report_name(request)}"
            ) from None
        except OSError as exc:
            raise InvalidInputError(
                f"--report {path} cannot be written ({exc.strerror or exc}; a link is never "
                f"followed): give a path in a directory you can write; nothing was erased"
            ) from None
        journal = cls(path, fd)
        if os.fstat(fd).st_size:
            with open(path, encoding="utf-8", errors="replace") as existing:
                first = existing.readline()
            if _request_of(first) != journal_request(request):
                journal.close()
                raise InvalidInputError(
                    f"--report {path} already holds another record (not the report of "
                    f"{request.describe()}): reports are never overwritten; give another path"
                )
        return journal

    def write(self, event: str, **fields: Any) -> None:
        """Append ``{"event": event, ...}`` as one line, on disk before this returns."""
        line = json.dumps({"event": event, **fields}, sort_keys=False) + "\n"
        os.write(self.fd, line.encode("utf-8"))  # one write: a line is there whole or not at all
        os.fsync(self.fd)

    def versions(self, event: str, versions: list[Any]) -> None:
        """One event listing ``versions`` (StoredVersion: key, version, size, date, marker)."""
        self.write(event, versions=[asdict(v) for v in versions])

    def close(self) -> None:
        """Close the file (what was written stays)."""
        os.close(self.fd)


def journal_request(request: ErasureRequest) -> dict[str, Any]:
    """How the report names its request (its first line's ``request``)."""
    return {
        "company_id": request.company_id,
        "call_uuid": request.call_uuid,
        "scope": request.describe(),
    }


def now_text() -> str:
    """The time, as the report writes it."""
    return format_timestamp(dt.datetime.now(dt.UTC))


def read_report(path: Path) -> dict[str, Any]:
    """Every run of a report folded into one summary: the request, every version removed by
    any run, what landed after, and the last run's final check (``nothing_remains``)."""
    summary: dict[str, Any] = {"runs": 0, "removed": [], "failed": [], "landed_after": []}
    summary["final_check"] = {"nothing_remains": False, "remaining": []}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:  # a line cut by a crash: what was before it stands
            continue
        kind = event.pop("event", None)
        if kind == "run":
            summary["runs"] += 1
            summary.update({k: v for k, v in event.items() if k != "versions"})
            summary["final_check"] = {"nothing_remains": False, "remaining": []}
        elif kind in ("removed", "failed", "landed_after"):
            summary[kind].extend(event["versions"])
        elif kind == "final_check":
            summary["final_check"] = event
        elif kind == "interrupted":
            summary["interrupted_at"] = event.get("at")
    return summary
