"""What a ``voice-recordings`` command writes: lines for people and, with ``--json``, one JSON
document for scripts and cron; and the exit codes, the same with or without ``--json``.

Without ``--json`` a command writes its lines to stdout (and its progress, warnings and usage
errors to stderr), as it always has. With ``--json`` every line for people goes to stderr, and
stdout holds only the document, written once when the command ends (docs/runtime.md, "JSON
output", describes its shape):

    {"command": "replay", "format": 1, "ok": true, "exit_code": 0, ..., "error": null}

``ok`` is ``exit_code == 0``; ``error`` is null, or the problem that ended the command as
``{"category", "message", "fix"}`` (the fix line apart, null when the message itself says what
to do). The fields between them are the command's own (:mod:`voice_recordings.cli.json_documents`).
``format`` changes only when a field changes meaning or goes away; new fields may be added.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Final

from voice_recordings.diagnostics import Diagnosis

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_SPOOLED: Final = 3
# Ctrl-C: the shell's code for SIGINT (128 + 2).
EXIT_INTERRUPTED: Final = 130

# The version of the documents' shape (see the module's docstring).
JSON_FORMAT: Final = 1
# Where a message's fix begins: "<what is wrong>. Fix: <what to do>" (Diagnosis.__str__, the
# spool's and the checks' lines).
_FIX: Final = re.compile(r"(?<=[.?!])\s+Fix: ")


def split_fix(text: str) -> tuple[str, str | None]:
    """``"<what>. Fix: <how>"`` as ``("<what>", "<how>")``; ``(text, None)`` without a fix."""
    found = _FIX.search(text)
    if found is None:
        return text, None
    return text[: found.start()].removesuffix("."), text[found.end() :]


def problem(category: str, text: str) -> dict[str, Any]:
    """An ``error`` (or a kept entry's reason) for the document: ``text`` with its fix apart."""
    message, fix = split_fix(text)
    return {"category": category, "message": message, "fix": fix}


def diagnosed(diagnosis: Diagnosis) -> dict[str, Any]:
    """A storage failure's :class:`Diagnosis` as an ``error``."""
    return {"category": diagnosis.category, "message": diagnosis.summary, "fix": diagnosis.fix}


@dataclass
class Output:
    """Where a command writes: ``text``, its lines for people (stdout, or stderr with
    ``--json``), and with ``--json`` the fields of its document."""

    text: IO[str]
    json: bool = False
    fields: dict[str, Any] = field(default_factory=dict)

    def record(self, **fields: Any) -> None:
        """Fields of the document (nothing without ``--json``)."""
        if self.json:
            self.fields.update(fields)

    def interrupted(self, message: str) -> int:
        """Ctrl-C: ``message`` (what stands, what to do) as one line on stderr, no traceback,
        and as the document's error; the exit code to return."""
        print(message, file=sys.stderr)
        self.record(error=problem("interrupted", message))
        return EXIT_INTERRUPTED

    def write_document(self, stdout: IO[str], command: str, exit_code: int) -> None:
        """The one document, on ``stdout`` (nothing without ``--json``)."""
        if not self.json:
            return
        fields = dict(self.fields)
        error = fields.pop("error", None)
        document = {
            "command": command,
            "format": JSON_FORMAT,
            "ok": exit_code == EXIT_OK,
            "exit_code": exit_code,
            **fields,
            "error": error,
        }
        stdout.write(json.dumps(document, indent=2) + "\n")
        stdout.flush()
