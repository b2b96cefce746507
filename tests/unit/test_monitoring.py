"""monitoring/: the alert rules (promtool's own check and unit tests) and the Grafana dashboard,
each query against the metric names the package exports, each runbook against docs/runtime.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any, Final

import pytest
import yaml
from prometheus_client import CollectorRegistry

from tests.docs import REPO, RUNTIME, github_anchor, section, table_rows
from voice_recordings.metrics import upload_metrics

MONITORING: Final = REPO / "monitoring"
ALERTS: Final = MONITORING / "alerts.yml"
ALERTS_TEST: Final = MONITORING / "alerts_test.yml"
DASHBOARD: Final = MONITORING / "dashboard.json"
SEVERITIES: Final = {"critical", "warning"}


def promtool() -> str:
    """The path of ``promtool``; fails (never skips: CI installs it) saying how to get it."""
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is not installed: run `make monitoring-tools` (Debian's prometheus "
            "package; make test does it first)"
        )
    return found


def exported_names() -> set[str]:
    """Every sample name the package's metrics expose (``_total``, ``_bucket``, ``_sum``, ...),
    from a registry it registered them in."""
    registry = CollectorRegistry()
    upload_metrics(registry)
    return {sample.name for family in registry.collect() for sample in family.samples}


# What a PromQL expression holds besides metric names: strings, label matchers, ranges and
# offsets, grouping label lists, Grafana's $variables, numbers and durations, and keywords.
_NOT_NAMES: Final = (
    r'"(?:[^"\\]|\\.)*"',
    r"'(?:[^'\\]|\\.)*'",
    r"\{[^}]*\}",
    r"\[[^\]]*\]",
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
    r"\$\{?\w+\}?",
    r"\b\d+(?:\.\d+)?(?:e[+-]?\d+|[smhdwy])?\b",
)
_KEYWORDS: Final = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
# A whole identifier not followed by "(" (a function's or an aggregation's name).
_IDENTIFIER: Final = re.compile(r"(?<![\w:])[A-Za-z_:][\w:]*(?![\w:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` (PromQL, or a Grafana query) selects."""
    for pattern in _NOT_NAMES:
        expr = re.sub(pattern, " ", expr)
    return {name for name in _IDENTIFIER.findall(expr) if name.lower() not in _KEYWORDS}


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of monitoring/alerts.yml."""
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[tuple[str, str]]:
    """``(panel title, query)`` of every panel target and templating query of the dashboard."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            queries.append((f"${variable['name']}", str(variable["query"])))
    return queries


def test_promtool_checks_the_rules() -> None:
    run = subprocess.run(
        [promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    run = subprocess.run(
        [promtool(), "test", "rules", ALERTS_TEST.name],
        cwd=MONITORING,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_alert_fires_in_a_unit_test() -> None:
    tests = yaml.safe_load(ALERTS_TEST.read_text(encoding="utf-8"))["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == {rule["alert"] for rule in alert_rules()}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_waits_says_how_bad_and_links_its_runbook(rule: dict[str, Any]) -> None:
    assert rule.get("for"), "a `for:` keeps one bad scrape from paging"
    assert rule["labels"]["severity"] in SEVERITIES
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    # The runbook is a heading of docs/runtime.md's troubleshooting named after the alert.
    assert annotations["runbook_url"] == f"docs/runtime.md#{github_anchor(rule['alert'])}"
    assert f"\n#### {rule['alert']}\n" in section(RUNTIME, "When an alert fires")


def test_the_metric_name_check_catches_a_name_the_package_does_not_export() -> None:
    expr = 'sum by (le) (rate(voice_ai_minio_upload_duration_bucket{status="success"}[5m])) > 0'
    assert metric_names(expr) == {"voice_ai_minio_upload_duration_bucket"}
    assert not metric_names(expr) <= exported_names()


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_queries_only_exported_metrics(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names, rule["expr"]
    assert names <= exported_names(), names - exported_names()


def test_every_dashboard_query_names_only_exported_metrics() -> None:
    exported = exported_names()
    for title, query in dashboard_queries():
        names = metric_names(query)
        assert names, f"{title}: {query}"
        assert names <= exported, f"{title}: {names - exported}"


def test_every_exported_metric_is_on_the_dashboard() -> None:
    # _created (prometheus_client's creation time) and the histogram's raw _count/_sum are
    # not worth a panel of their own.
    shown = {name for _, query in dashboard_queries() for name in metric_names(query)}
    wanted = {n for n in exported_names() if not n.endswith("_created")}
    wanted -= {"voice_ai_minio_upload_duration_seconds_count"}
    wanted -= {"voice_ai_minio_upload_duration_seconds_sum"}
    assert wanted <= shown, wanted - shown


def test_the_dashboard_reads_a_chosen_prometheus_data_source() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    (variable,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == f"${{{variable['name']}}}", panel["title"]


def test_the_monitoring_files_are_where_the_docs_say() -> None:
    for path in (ALERTS, ALERTS_TEST, DASHBOARD):
        assert f"`monitoring/{path.name}`" in RUNTIME.read_text(encoding="utf-8"), path.name


def test_the_docs_alert_table_is_the_rules() -> None:
    documented = {
        name.strip("`"): severity
        for name, severity, _ in table_rows(section(RUNTIME, "Alerts and dashboard"))
    }
    assert documented == {rule["alert"]: rule["labels"]["severity"] for rule in alert_rules()}
