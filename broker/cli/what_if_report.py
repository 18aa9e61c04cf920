"""`mash-broker what-if`'s report: the terminal summary (rich tables) and the JSON.

The reader is a partnership's manager or a serious case review: first what was changed,
then how many alerts and notifications each configuration gives, then which rules
moved and by how much, then the children (by the broker's pseudonymous id only: a
report may be passed around, and names are not needed to find a child in the MASH
page) whose alerts came earlier, later, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median
from typing import Any

from rich.console import Console
from rich.table import Table

from broker.config.sources import Source
from broker.pipeline.difference import Comparison, Moved

SHOWN = 15
"""Changes listed one by one in the terminal (all of them are in the JSON and HTML)."""

SAME = "the same alerts and notifications, at the same times."

QUIET_KEYS = frozenset({"note"})
"""Settings whose change changes nothing the broker does."""


@dataclass(frozen=True)
class Report:
    baseline: str
    new: str
    source: str
    events: int
    seconds: float
    settings_changed: list[tuple[str, Any, Any]]
    comparison: Comparison
    labels: tuple[str, str] = field(default=("baseline", "new"))

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline_config": self.baseline,
            "new_config": self.new,
            "source": self.source,
            "events": self.events,
            "seconds": round(self.seconds, 2),
            "settings_changed": [
                {"setting": k, "baseline": b, "new": n} for k, b, n in self.settings_changed
            ],
            **self.comparison.to_json(),
        }


def changed_settings(baseline: Source, new: Source) -> list[tuple[str, Any, Any]]:
    """(dotted setting, baseline value, new value) for every setting that differs."""
    old, now = _flat(baseline.data), _flat(new.data)
    return [
        (key, old.get(key), now.get(key))
        for key in sorted(old.keys() | now.keys())
        if key not in QUIET_KEYS and old.get(key) != now.get(key)
    ]


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, str | int | float | bool) else str(value)
    return flat


def duration(value: timedelta) -> str:
    """'28 days', '5 h 20 min', '12 min' (the size; the sign is said in words)."""
    seconds = abs(value.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        hours, rest = divmod(seconds, 3600)
        return f"{hours:.0f} h {rest / 60:.0f} min"
    return f"{seconds / 60:.0f} min"


def shift(change: Moved) -> str:
    """'28 days earlier', '3 h 0 min later', or '' for an added or removed alert."""
    gained = change.gained
    if gained is None or not gained:
        return ""
    return f"{duration(gained)} {'earlier' if gained > timedelta(0) else 'later'}"


def median_shift(changes: Sequence[Moved]) -> str:
    gains = [c.gained.total_seconds() for c in changes if c.gained is not None]
    if not gains:
        return ""
    middle = timedelta(seconds=median(gains))
    return f"{duration(middle)} {'earlier' if middle >= timedelta(0) else 'later'}"


def render_terminal(report: Report, console: Console) -> None:
    """The summary: what changed, the totals side by side, rules, then the children."""
    c, (base, new) = report.comparison, report.labels
    console.print(
        f"[bold]What if[/bold] {report.new} [dim]instead of[/dim] {report.baseline}: "
        f"{report.events:,} events from {report.source} in {report.seconds:,.1f} s"
    )
    settings = Table(title="Settings changed", title_justify="left")
    for column in ("setting", base, new):
        settings.add_column(column)
    for key, old, now in report.settings_changed:
        settings.add_row(key, _value(old), _value(now))
    if report.settings_changed:
        console.print(settings)
    else:
        console.print("No setting differs from the baseline.")
    console.print(_totals(report))
    if c.no_difference:
        console.print(
            "[bold]No difference[/bold]: the same alerts and notifications, at the same times."
        )
        return
    console.print(_by_rule(c))
    if c.first_flags:
        what = "Children first flagged at another time"
        console.print(_moved_rows(what, c.first_flags, report.labels, "first"))
    if c.alerts:
        console.print(_moved_rows("Alerts that change", c.alerts, report.labels, "at"))
    if c.disclosures:
        console.print(_disclosure_rows(c))


def _totals(report: Report) -> Table:
    c, (base, new) = report.comparison, report.labels
    table = Table(title="Totals over the history", title_justify="left")
    table.add_column("")
    for column in (base, new, "difference"):
        table.add_column(column, justify="right")
    old, now = c.baseline, c.new
    rows: list[tuple[str, int, int]] = [
        ("alerts", sum(old.alerts.values()), sum(now.alerts.values()))
    ]
    for rule in sorted(old.alerts.keys() | now.alerts.keys()):
        rows.append((f"  {rule}", old.alerts.get(rule, 0), now.alerts.get(rule, 0)))
    told = ("notifications (disclosures)", sum(old.disclosures.values()))
    rows.append((*told, sum(now.disclosures.values())))
    for agency in sorted(old.disclosures.keys() | now.disclosures.keys()):
        rows.append(
            (f"  to {agency}", old.disclosures.get(agency, 0), now.disclosures.get(agency, 0))
        )
    rows.append(("IDENTITY_REVIEW volume", old.identity_reviews, now.identity_reviews))
    for kind in sorted(old.feedback.keys() | now.feedback.keys()):
        rows.append((f"feedback: {kind}", old.feedback.get(kind, 0), now.feedback.get(kind, 0)))
    rows.append(("inputs refused", old.rejected, now.rejected))
    for name, before, after in rows:
        table.add_row(
            name, f"{before:,}", f"{after:,}", f"{after - before:+,}" if after != before else ""
        )
    return table


ALERT_COLUMNS = ("added", "removed", "earlier", "later")
CHILD_COLUMNS = ("sooner", "later", "newly flagged", "no longer flagged")


def rule_rows(c: Comparison) -> list[tuple[str, list[str], list[str], str]]:
    """Per rule: alerts added/removed/earlier/later, children flagged sooner/later/newly/
    no longer, and the median time by which a child's first alert moved."""
    rows = []
    for rule, counts in c.by_rule().items():
        alerts = [f"{counts.get(k, 0):,}" for k in ALERT_COLUMNS]
        flags = [f for f in c.first_flags if f.rule == rule]
        children = [f"{sum(1 for f in flags if f.change == k):,}" for k in CHILD_COLUMNS]
        rows.append((rule, alerts, children, median_shift(flags)))
    return rows


def _by_rule(c: Comparison) -> Table:
    table = Table(title="What changes, by rule", title_justify="left")
    table.add_column("rule")
    for column in ALERT_COLUMNS:
        table.add_column(f"alerts\n{column}", justify="right")
    for column in CHILD_COLUMNS:
        table.add_column(f"children\n{column}", justify="right")
    table.add_column("first alert\nmedian shift", justify="right")
    for rule, alerts, children, middle in rule_rows(c):
        table.add_row(rule, *alerts, *children, middle)
    return table


def _moved_rows(what: str, moved: Sequence[Moved], labels: tuple[str, str], at: str) -> Table:
    """The first `SHOWN` of `moved` (by time), one a row."""
    shown = moved[:SHOWN]
    title = f"{what} ({len(moved):,}"
    title += f"; the first {SHOWN} by time, all in --json and --html)" if moved[SHOWN:] else ")"
    table = Table(title=title, title_justify="left")
    for column in ("child", "rule", "change", f"{labels[0]} {at}", f"{labels[1]} {at}", "shift"):
        table.add_column(column)
    for item in shown:
        table.add_row(
            item.child_id,
            item.rule,
            item.change,
            _when(item.baseline_at),
            _when(item.new_at),
            shift(item),
        )
    return table


def _disclosure_rows(c: Comparison) -> Table:
    shown = c.disclosures[:SHOWN]
    title = f"Notifications that would or would not have been sent ({len(c.disclosures):,})"
    table = Table(title=title, title_justify="left")
    for column in ("child", "to", "change", "at", "decided by"):
        table.add_column(column)
    for change in shown:
        d = change.disclosure
        table.add_row(d.child_id, d.to_agency, change.change, _when(d.disclosed_at), d.decided_by)
    return table


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _value(value: Any) -> str:
    return "(not set)" if value is None else str(value)
