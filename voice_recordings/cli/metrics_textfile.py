"""Replay's metrics as a file for node_exporter's textfile collector.

``voice-recordings replay`` runs from cron or a systemd timer and exits long before any scrape,
so ``--metrics-file`` writes its metrics to a ``.prom`` file that node_exporter serves. Counters
must only grow from run to run (rate() reads a drop as a restart and a repeated value as no
change), so each run starts from the counts the file holds and adds its own. Only replay's
metrics are written: the service's own scrape already exports the uploads and the spool.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from voice_recordings.metrics import (
    REPLAY_ENTRIES,
    REPLAY_LAST_RUN,
    REPLAY_RUNS,
    UploadMetrics,
    upload_metrics,
)

log = logging.getLogger("voice_recordings.metrics")

REPLAY_FAMILIES: Final = frozenset({REPLAY_ENTRIES, REPLAY_RUNS, REPLAY_LAST_RUN})


def textfile_metrics(path: Path) -> UploadMetrics:
    """Metrics in a registry of their own, holding the replay counts and last run that ``path``
    holds (none if it does not exist yet). A file that cannot be read or parsed is started
    afresh, with a warning: Prometheus takes that for a counter reset, nothing is lost."""
    metrics = upload_metrics(CollectorRegistry())
    try:
        families = list(text_string_to_metric_families(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return metrics
    except (OSError, ValueError) as exc:
        log.warning("metrics file %s not read, its counts start again: %s", path, exc)
        return metrics
    for family in families:
        for sample in family.samples:
            labels = sample.labels
            if sample.name == f"{REPLAY_ENTRIES}_total" and "outcome" in labels:
                metrics.replay_entries.labels(outcome=labels["outcome"]).inc(sample.value)
            elif sample.name == f"{REPLAY_RUNS}_total" and "result" in labels:
                metrics.replay_runs.labels(result=labels["result"]).inc(sample.value)
            elif sample.name == REPLAY_LAST_RUN:
                metrics.replay_last_run.set(sample.value)
    return metrics


def write_textfile(path: Path, metrics: UploadMetrics) -> None:
    """Write replay's metrics of ``metrics`` to ``path`` at once (a temporary file renamed into
    place, so the collector never reads half a file). Raises OSError."""
    write_to_textfile(str(path), _Families(metrics.registry, REPLAY_FAMILIES))


class _Families(Collector):
    """The metric families of ``registry`` named in ``names``, nothing else."""

    def __init__(self, registry: CollectorRegistry, names: frozenset[str]) -> None:
        self.registry, self.names = registry, names

    def collect(self) -> Iterable[Metric]:
        """The families kept."""
        return [family for family in self.registry.collect() if family.name in self.names]
