"""The `/ops` page: the operations figures as plain server-rendered HTML.

No JavaScript and no framework: the page refreshes itself (`<meta http-equiv=refresh>`),
works in any browser an operations room has, and has nothing to keep patched. Every
value is HTML-escaped even though the figures hold only labels and counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.05rem;margin:1.4rem 0 .4rem}
table{border-collapse:collapse;min-width:22rem;background:#fff}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#0a6b2d;font-weight:600} .bad{color:#b00020;font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:0 2.5rem} .muted{color:#666}
"""


def _cell(value: Any) -> str:
    if value is None:
        return '<td class="muted">–</td>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="n">{escape(str(value))}</td>'
    return f"<td>{escape(str(value))}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "none") -> str:
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td class="muted" colspan="{len(headers)}">{escape(empty)}</td></tr>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _flag(value: bool, yes: str, no: str) -> str:
    return f'<span class="ok">{yes}</span>' if value else f'<span class="bad">{no}</span>'


def _section(title: str, content: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{content}</section>"


def render(figures: Mapping[str, Any], refresh_seconds: int = 5) -> str:
    ready: Mapping[str, bool] | None = figures.get("readiness")
    status = table(
        ["check", "state"],
        [
            ["ready", "yes" if ready and ready["ready"] else "no"],
            ["Kafka reachable", _yes_no(ready, "kafka_reachable")],
            ["partitions assigned", _yes_no(ready, "partitions_assigned")],
            ["table recovery", figures["recovery"]],
            ["assigned partitions", figures["assigned_partitions"]],
            ["rebalances", figures["rebalances"]],
        ],
    )
    throughput = table(
        ["topic", "in", "out", "in / min", "out / min"],
        [
            [r["topic"], r["in"], r["out"], r["in_per_min"], r["out_per_min"]]
            for r in figures["throughput"]
        ],
    )
    agencies = table(
        ["agency", "events in"], [[r["agency"], r["count"]] for r in figures["events_in_by_agency"]]
    )
    rejections = table(
        ["reason (field)", "count"],
        [[r["reason"], r["count"]] for r in figures["rejections_by_reason"]],
    )
    totals = table(
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
    alerts = table(
        ["rule", "severity", "count"],
        [[r["rule_id"], r["severity"], r["count"]] for r in figures["alerts_by_rule"]],
    )
    lag = table(
        ["topic", "partition", "lag"],
        [[r["topic"], r["partition"], r["lag"]] for r in figures["lag"]],
        empty="no partition with a known end offset",
    )
    headline = _flag(bool(ready and ready["ready"]), "READY", "NOT READY")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">'
        "<title>mash-broker operations</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>mash-broker operations {headline}</h1>"
        f'<p class="muted">figures at {escape(str(figures["generated_at"]))}, refreshed every '
        f"{int(refresh_seconds)} s; counts since this worker started. Lag total: "
        f"{escape(str(figures['lag_total']))}.</p>"
        '<div class="grid">'
        + _section("Worker", status)
        + _section("Totals", totals)
        + "</div>"
        + _section("Throughput per topic", throughput)
        + '<div class="grid">'
        + _section("Events in by agency", agencies)
        + _section("Rejections by reason", rejections)
        + _section("Alerts by rule", alerts)
        + _section("Consumer lag", lag)
        + "</div></body></html>"
    )


def _yes_no(ready: Mapping[str, bool] | None, key: str) -> str:
    if ready is None:
        return "unknown"
    return "yes" if ready[key] else "no"
