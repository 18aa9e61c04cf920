"""The Grafana dashboard and the Prometheus files name metrics the worker really serves.

A renamed metric would otherwise leave a blank panel or an alert that can never fire,
and nobody would notice until the night it mattered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry

from broker.ops.metrics import Metrics
from broker.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
METRIC = re.compile(r"\b((?:mash|faust)_[a-z_]+)\b")
SUFFIXES = ("", "_total", "_created", "_bucket", "_sum", "_count")


class Worker:
    def lag(self) -> Mapping[tuple[str, int], int]:
        return {}

    def unfetched(self) -> int:
        return 0

    def recovery_complete(self) -> bool:
        return True

    def in_recovery(self) -> bool:
        return False

    def assigned_partitions(self) -> int | None:
        return 1


@pytest.fixture(scope="module")
def served() -> set[str]:
    """Every sample name the worker's registry can serve (faust's sensor and ours)."""
    registry = CollectorRegistry()
    FaustMetrics.create(registry, "faust")
    Metrics(registry).watch_worker(Worker())
    return {family.name + suffix for family in registry.collect() for suffix in SUFFIXES}


def names_in(text: str) -> set[str]:
    return set(METRIC.findall(text))


def test_the_dashboard_queries_served_metrics_only(served: set[str]) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "mash-broker.json").read_text())
    assert dashboard["uid"] == "mash-broker"
    exprs = [
        target["expr"]
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]
    assert len(exprs) >= 15
    used = set().union(*(names_in(e) for e in exprs))
    assert used - served == set()
    assert {"mash_events_in_total", "mash_rejection_reasons_total", "mash_alerts_total"} <= used
    assert {"mash_consumer_lag", "mash_worker_ready", "mash_table_recovery_in_progress"} <= used


def test_the_alert_rules_name_served_metrics_only(served: set[str]) -> None:
    text = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    used = names_in(text)
    assert used - served == set()
    for runbook in re.findall(r"docs/operations\.md#([a-z-]+)", text):
        assert runbook in anchors(PROJECT_ROOT / "docs" / "operations.md"), runbook


def test_prometheus_scrapes_the_workers_metrics_and_loads_the_rules() -> None:
    text = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    assert "metrics_path: /metrics" in text
    assert "- alerts.yml" in text
    assert re.search(r"targets: \[.*:6066", text)


def anchors(markdown: Path) -> set[str]:
    """GitHub's anchors of the headings of a markdown file."""
    found = set()
    for line in markdown.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^a-z0-9 -]", "", title).replace(" ", "-"))
    return found
