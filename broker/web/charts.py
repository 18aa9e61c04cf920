"""The timeliness report's charts, drawn server-side by matplotlib (Agg, no display).

One PNG a measure: by month, what was done in time, late and still pending (stacked
bars), or for a plain count, how many. The page shows each beside a table of the same
figures and describes it in its `alt` text, so the chart is never the only way to read
them. Matplotlib's object API (a `Figure` per chart, no pyplot state) is safe to call
from the page's request handlers.
"""

from __future__ import annotations

import io
from typing import Final

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from broker.oversight.timeliness import MEASURE_BY_KEY, Tally, TimelinessReport

COLOURS: Final = {"in_time": "#1d70b8", "late": "#a4121c", "pending": "#505a5f"}
"""Blue, red and grey with at least 4.5:1 against white; the legend names each."""


def by_month(report: TimelinessReport, measure: str) -> list[Tally]:
    """The measure over every agency, one tally a month of the report."""
    months: dict[str, Tally] = {}
    for row in report.rows:
        if row.measure != measure:
            continue
        tally = months.setdefault(row.month, Tally(row.month, "all", measure))
        tally.total += row.total
        tally.in_time += row.in_time
        tally.late += row.late
        tally.pending += row.pending
    return [months[m] for m in sorted(months)]


def describe(report: TimelinessReport, measure: str) -> str:
    """The chart in words (its alt text)."""
    spec = MEASURE_BY_KEY[measure]
    months = by_month(report, measure)
    if not months:
        return f"Chart of {spec.title.lower()}: nothing in this period."
    if not spec.timed:
        parts = [f"{t.month}: {t.total}" for t in months]
    else:
        parts = [
            f"{t.month}: {t.in_time} in time, {t.late} late, {t.pending} pending" for t in months
        ]
    return f"Chart of {spec.title.lower()} by month. " + "; ".join(parts) + "."


def measure_chart(report: TimelinessReport, measure: str) -> bytes:
    """The PNG of one measure, by month."""
    spec = MEASURE_BY_KEY[measure]
    months = by_month(report, measure)
    labels = [t.month for t in months]
    figure = Figure(figsize=(5.2, 2.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(spec.title, fontsize=9, loc="left", wrap=True)
    if not spec.timed:
        axes.bar(labels, [t.total for t in months], color=COLOURS["in_time"], label="received")
    else:
        bottom = [0] * len(months)
        for key, name in (("in_time", "in time"), ("late", "late"), ("pending", "pending")):
            values = [getattr(t, key) for t in months]
            axes.bar(labels, values, bottom=bottom, color=COLOURS[key], label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("count", fontsize=8)
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if months:
        axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    else:
        axes.text(0.5, 0.5, "nothing in this period", ha="center", transform=axes.transAxes)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
