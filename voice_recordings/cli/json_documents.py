"""The fields of each command's ``--json`` document (its envelope: :mod:`.output`).

Each is built from what the command's own code reports (the check results, the replay report,
the erasure report a data-protection officer files, the export), never from its printed lines,
and names each item's outcome with the words the lines and the metrics use. The shapes are
documented in docs/runtime.md ("JSON output"); a field is added there when it is added here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from voice_recordings.cli.checks import STATUSES, CheckResult
from voice_recordings.cli.output import split_fix
from voice_recordings.metrics import REPLAY_OUTCOMES, replay_result
from voice_recordings.settings import StorageSettings
from voice_recordings.spool.replay import ReplayReport
from voice_recordings.subject_requests.erasure import ErasureReport
from voice_recordings.subject_requests.export import Export

# Replay's outcomes whose items name a spool entry's directory, not a key: a corrupt or another
# user's entry is not trusted to say which key it holds.
_ENTRY_NAMED: frozenset[str] = frozenset({"corrupt", "foreign"})


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)


def check_fields(settings: StorageSettings, results: Iterable[CheckResult]) -> dict[str, Any]:
    """``check``: the settings in use (no secret), a count per status, one item per check."""
    checks = []
    for result in results:
        detail, fix = split_fix(result.detail)
        checks.append({"name": result.name, "status": result.status, "detail": detail, "fix": fix})
    return {
        "settings": {
            "endpoint": settings.endpoint_url,
            "bucket": settings.bucket,
            "region": settings.region,
            "url_mode": settings.url_mode,
            "spool": _path(settings.spool_dir),
        },
        "counts": {status: sum(c["status"] == status for c in checks) for status in STATUSES},
        "checks": checks,
    }


def replay_fields(
    spool: Path | None, waiting: int | None, report: ReplayReport | None
) -> dict[str, Any]:
    """``replay``: the spool (null when it is off), what waited, how the run ended (metrics'
    ``result``: null when there was no run), a count per outcome and one item per entry."""
    counts: dict[str, int] = {outcome: 0 for outcome in REPLAY_OUTCOMES}
    entries: list[dict[str, Any]] = []
    if report is not None:
        for outcome in REPLAY_OUTCOMES:
            items: list[str | tuple[str, str]] = getattr(report, outcome)
            counts[outcome] = len(items)
            entries.extend(_replay_entry(outcome, item) for item in items)
    return {
        "spool": _path(spool),
        "waiting": waiting,
        "result": None if spool is None else replay_result(report),
        "counts": {
            **counts,
            "busy": 0 if report is None else report.busy,
            "remaining": 0 if report is None else report.remaining,
        },
        "entries": entries,
    }


def _replay_entry(outcome: str, item: str | tuple[str, str]) -> dict[str, Any]:
    name, why = (item, None) if isinstance(item, str) else item
    reason, fix = (None, None) if why is None else split_fix(why)
    by_entry = outcome in _ENTRY_NAMED
    return {
        "outcome": outcome,
        "key": None if by_entry else name,
        "entry": name if by_entry else None,
        "reason": reason,
        "fix": fix,
    }


def erase_fields(report: ErasureReport, report_file: Path | None) -> dict[str, Any]:
    """``erase``: the erasure report itself (the record ``--report`` files, in a dry run what
    would go under ``final_check.remaining``), with a count per list and where it was filed."""
    return {
        "report_file": _path(report_file),
        "counts": {
            "removed": len(report.removed),
            "failed": len(report.failed),
            "left_alone": len(report.left_alone),
            "landed_after": len(report.landed_after),
            "remaining": len(report.remaining),
        },
        **report.to_json(),
    }


def export_fields(
    company_id: int, call_uuid: str, day: dt.date | None, exported: Export
) -> dict[str, Any]:
    """``export``: the request, the directory and manifest, one item per file written and per
    version not exported (``problem``: true when it makes the export incomplete)."""
    not_exported = []
    for item in exported.not_exported:
        reason, fix = split_fix(item.reason)
        not_exported.append(
            {
                "key": item.key,
                "version_id": item.version_id,
                "reason": reason,
                "fix": fix,
                "problem": item.problem,
            }
        )
    return {
        "request": {
            "company_id": company_id,
            "call_uuid": call_uuid,
            "day": None if day is None else day.isoformat(),
        },
        "directory": str(exported.directory),
        "manifest": _path(exported.manifest),
        "complete": exported.complete,
        "counts": {"exported": len(exported.files), "not_exported": len(not_exported)},
        "files": [
            {
                "key": f.key,
                "version_id": f.version_id,
                "path": str(f.path),
                "sha256": f.sha256,
                "size": f.size,
            }
            for f in exported.files
        ],
        "not_exported": not_exported,
    }
