"""`mash-broker status`: the operations figures of a running worker, in a terminal.

It fetches the worker's `/ops.json` (the very figures the `/ops` page shows, computed by
one function in the worker, broker.ops.figures) and renders them with rich. It never
computes a figure itself, so the terminal and the page cannot disagree.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from broker.errors import InfrastructureError

_ANY_ADDRESS = {"", "0.0.0.0", "::"}  # noqa: S104 (a bind address, mapped to loopback)


def status_url(host: str, port: int) -> str:
    """Where a worker configured with this web host and port serves `/ops.json`."""
    reach = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in reach and not reach.startswith("["):
        reach = f"[{reach}]"
    return f"http://{reach}:{port}/ops.json"


def fetch(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """The worker's figures; `InfrastructureError` when the worker does not answer."""
    if not url.startswith(("http://", "https://")):
        raise InfrastructureError(f"not an http(s) URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (checked)
            data = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InfrastructureError(
            f"no operations figures from {url} ({type(exc).__name__}): is the worker "
            "running with MASH_WORKER_WEB_PORT set?"
        ) from None
    if not isinstance(data, dict):
        raise InfrastructureError(f"{url} did not answer with the operations figures")
    return data


def _table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right")
    count = 0
    for row in rows:
        table.add_row(*("–" if v is None else str(v) for v in row))
        count += 1
    if not count:
        table.add_row("none", *[""] * (len(headers) - 1))
    return table


def render(figures: Mapping[str, Any]) -> Group:
    ready: Mapping[str, bool] | None = figures.get("readiness")
    is_ready = bool(ready and ready.get("ready"))

    def yes_no(key: str) -> str:
        return "unknown" if ready is None else ("yes" if ready.get(key) else "no")

    headline = Panel.fit(
        ("[bold green]READY[/]" if is_ready else "[bold red]NOT READY[/]")
        + f"  figures at {figures['generated_at']}; lag total {figures['lag_total']}",
        title="mash-broker worker",
    )
    worker = _table(
        "Worker",
        ["check", "state"],
        [
            ["Kafka reachable", yes_no("kafka_reachable")],
            ["partitions assigned", yes_no("partitions_assigned")],
            ["table recovery", figures["recovery"]],
            ["assigned partitions", figures["assigned_partitions"]],
            ["rebalances", figures["rebalances"]],
        ],
    )
    totals = _table(
        "Totals",
        ["figure", "count"],
        [
            ["rejected", figures["rejected"]],
            ["duplicates", figures["duplicates"]],
            ["deadlines due within the hour", figures["deadlines"]["due_within_hour"]],
            ["deadlines overdue", figures["deadlines"]["overdue"]],
            ["records published (latency measured)", figures["latency"]["published"]],
            ["mean latency from recorded_at (s)", figures["latency"]["mean_s"]],
        ],
    )
    throughput = _table(
        "Throughput per topic",
        ["topic", "in", "out", "in / min", "out / min"],
        [
            [r["topic"], r["in"], r["out"], r["in_per_min"], r["out_per_min"]]
            for r in figures["throughput"]
        ],
    )
    agencies = _table(
        "Events in by agency",
        ["agency", "events in"],
        [[r["agency"], r["count"]] for r in figures["events_in_by_agency"]],
    )
    reasons = _table(
        "Rejections by reason",
        ["reason (field)", "count"],
        [[r["reason"], r["count"]] for r in figures["rejections_by_reason"]],
    )
    alerts = _table(
        "Alerts by rule",
        ["rule", "severity", "count"],
        [[r["rule_id"], r["severity"], r["count"]] for r in figures["alerts_by_rule"]],
    )
    lag = _table(
        "Consumer lag",
        ["topic", "partition", "lag"],
        [[r["topic"], r["partition"], r["lag"]] for r in figures["lag"]],
    )
    return Group(headline, worker, totals, throughput, agencies, reasons, alerts, lag)


def show_status(url: str, *, as_json: bool = False, console: Console | None = None) -> int:
    """Print the figures; 0 when the worker is ready, 1 when it answers but is not."""
    data = fetch(url)
    console = console or Console()
    if as_json:
        console.print_json(json.dumps(data))
    else:
        console.print(render(data))
    readiness = data.get("readiness") or {}
    return 0 if readiness.get("ready") else 1
