"""The operations figures, and the page and terminal views that show them.

One function computes the figures; the `/ops` page and `mash-broker status` only render
them, so a count on one is the same count on the other.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from rich.console import Console

from broker.errors import InfrastructureError
from broker.models.outputs import ProblemOut, Rejected
from broker.ops import page, terminal
from broker.ops.figures import RateWindow, figures
from broker.ops.health import Readiness
from broker.ops.metrics import Metrics
from broker.pipeline.records import OutRecord

NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)
READY = Readiness(kafka_reachable=True, partitions_assigned=True, recovery_complete=True)


class Worker:
    def lag(self) -> Mapping[tuple[str, int], int]:
        return {("police.vist.v1", 0): 4, ("broker.accepted.v1", 0): 1}

    def unfetched(self) -> int:
        return 0

    def recovery_complete(self) -> bool:
        return True

    def in_recovery(self) -> bool:
        return False

    def assigned_partitions(self) -> int | None:
        return 13


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def busy_metrics() -> Metrics:
    metrics = Metrics(CollectorRegistry(), now=lambda: NOW)
    metrics.watch_worker(Worker())
    for _ in range(3):
        metrics.event_in("police.vist.v1", "police")
    metrics.event_in("health.update.v1", None)
    metrics.outcome("link", "duplicate")
    reasons = [ProblemOut(field="subject.nhs_number", message="m")]
    value = Rejected(
        rejection_id="r", topic="police.vist.v1", reasons=reasons, original=b"", rejected_at=NOW
    )
    metrics.record_published(OutRecord("broker.rejected.v1", "r", value))
    metrics.alerts.labels(rule_id="UNSHARED_RISK", severity="medium").inc(2)
    return metrics


@pytest.fixture
def data() -> dict[str, Any]:
    metrics = busy_metrics()
    return figures(metrics.registry, READY, RateWindow(), NOW)


def test_figures_are_counts_by_topic_agency_reason_rule_and_partition(
    data: dict[str, Any],
) -> None:
    assert data["readiness"]["ready"] is True
    rows = {r["topic"]: r for r in data["throughput"]}
    assert (rows["police.vist.v1"]["in"], rows["police.vist.v1"]["out"]) == (3, 0)
    assert (rows["broker.rejected.v1"]["in"], rows["broker.rejected.v1"]["out"]) == (0, 1)
    assert data["events_in_by_agency"] == [
        {"agency": "police", "count": 3},
        {"agency": "unknown", "count": 1},
    ]
    assert data["rejections_by_reason"] == [{"reason": "subject.nhs_number", "count": 1}]
    assert data["alerts_by_rule"] == [
        {"rule_id": "UNSHARED_RISK", "severity": "medium", "count": 2}
    ]
    assert (data["duplicates"], data["rejected"]) == (1, 1)
    assert data["lag_total"] == 5
    assert {"topic": "police.vist.v1", "partition": 0, "lag": 4} in data["lag"]
    assert (data["recovery"], data["assigned_partitions"]) == ("complete", 13)
    assert data["deadlines"] == {"due_within_hour": 0, "overdue": 0}
    json.dumps(data)  # plain JSON data, served as /ops.json as it is


def test_rates_are_per_minute_over_the_window() -> None:
    clock = Clock()
    window = RateWindow(window=60, clock=clock)
    assert window.observe({"in:a": 0}) == {"in:a": None}  # no history yet
    clock.now += 30
    assert window.observe({"in:a": 15}) == {"in:a": 30.0}
    clock.now += 60
    assert window.observe({"in:a": 75}) == {"in:a": pytest.approx(60.0)}  # the last 60 s
    clock.now += 60
    assert window.observe({"in:a": 75}) == {"in:a": pytest.approx(0.0)}  # idle minute


def test_the_page_refreshes_itself_runs_no_script_and_shows_the_figures(
    data: dict[str, Any],
) -> None:
    html = page.render(data, refresh_seconds=7)
    assert '<meta http-equiv="refresh" content="7">' in html
    assert "<script" not in html.lower()
    assert "READY" in html
    for text in ("police.vist.v1", "subject.nhs_number", "UNSHARED_RISK", "complete"):
        assert text in html


def test_the_page_escapes_whatever_it_is_given(data: dict[str, Any]) -> None:
    data["rejections_by_reason"] = [{"reason": "<img src=x onerror=alert(1)>", "count": 1}]
    html = page.render(data)
    assert "<img" not in html
    assert "&lt;img" in html


def test_terminal_and_page_show_the_same_figures(data: dict[str, Any]) -> None:
    console = Console(record=True, width=160, color_system=None)
    console.print(terminal.render(data))
    text = console.export_text()
    html = page.render(data)
    for row in data["throughput"]:
        assert row["topic"] in text
        assert row["topic"] in html
    for row in data["rejections_by_reason"] + data["alerts_by_rule"]:
        assert str(row["count"]) in text
    assert "READY" in text
    assert "Consumer lag" in text
    assert "Consumer lag" in html


def test_status_url_reaches_a_worker_bound_to_every_address() -> None:
    assert terminal.status_url("0.0.0.0", 6066) == "http://127.0.0.1:6066/ops.json"
    assert terminal.status_url("worker-1", 6066) == "http://worker-1:6066/ops.json"
    assert terminal.status_url("::1", 6066) == "http://[::1]:6066/ops.json"


def test_status_says_the_worker_is_away_without_a_traceback() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InfrastructureError, match="is the worker running"):
        terminal.fetch(f"http://127.0.0.1:{port}/ops.json", timeout=2)


@pytest.fixture
def served(data: dict[str, Any]) -> Iterator[str]:
    body = json.dumps(data | {"readiness": None}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ops.json"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_status_renders_what_the_worker_serves_and_exits_1_when_not_ready(served: str) -> None:
    console = Console(record=True, width=160, color_system=None)
    assert terminal.show_status(served, console=console) == 1
    text = console.export_text()
    assert "NOT READY" in text
    assert "subject.nhs_number" in text
    console = Console(record=True, width=160, color_system=None)
    assert terminal.show_status(served, as_json=True, console=console) == 1
    assert json.loads(console.export_text())["duplicates"] == 1
