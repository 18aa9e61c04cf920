"""`mash-broker what-if --html FILE`: the report as one self-contained page.

The chart of alerts per month under each configuration is drawn here by matplotlib
and inlined as SVG, so the page opens anywhere (a partnership's locked-down laptop, an
email attachment) without fetching a script or a font. The same figures follow as a
table, for a screen reader and for copying. Every value is escaped by jinja2.
"""

from __future__ import annotations

import io

from jinja2 import Environment

from broker.cli.what_if_report import ALERT_COLUMNS, CHILD_COLUMNS, Report, rule_rows, shift

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>What if: {{ r.new }} instead of {{ r.baseline }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25rem 0.75rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
code { font-size: 0.95em; }
figure { margin: 0; }
</style>
</head>
<body>
<h1>What would we have caught?</h1>
<p>The same history ({{ "{:,}".format(r.events) }} events from <code>{{ r.source }}</code>)
replayed under <code>{{ r.new }}</code> ({{ labels[1] }}) and <code>{{ r.baseline }}</code>
({{ labels[0] }}).
{% if c.no_difference %}<strong>No difference:</strong> the same alerts and notifications,
at the same times.{% endif %}</p>

<table>
<caption>Settings changed</caption>
<tr><th>setting</th><th>{{ labels[0] }}</th><th>{{ labels[1] }}</th></tr>
{% for key, old, now in r.settings_changed %}
<tr><td><code>{{ key }}</code></td><td>{{ old }}</td><td>{{ now }}</td></tr>
{% else %}<tr><td colspan="3">none</td></tr>{% endfor %}
</table>

<h2>Alerts per month</h2>
<figure>{{ chart | safe }}
<figcaption>Alerts raised each month under each configuration (table below).</figcaption>
</figure>

<table>
<caption>Totals</caption>
<tr><th></th><th>{{ labels[0] }}</th><th>{{ labels[1] }}</th></tr>
<tr><td>alerts</td><td class="n">{{ c.baseline.alerts.values()|sum }}</td>
<td class="n">{{ c.new.alerts.values()|sum }}</td></tr>
{% for rule in rules %}<tr><td>&nbsp;&nbsp;{{ rule }}</td>
<td class="n">{{ c.baseline.alerts.get(rule, 0) }}</td>
<td class="n">{{ c.new.alerts.get(rule, 0) }}</td></tr>
{% endfor %}
<tr><td>notifications (disclosures)</td><td class="n">{{ c.baseline.disclosures.values()|sum }}</td>
<td class="n">{{ c.new.disclosures.values()|sum }}</td></tr>
<tr><td>IDENTITY_REVIEW volume</td><td class="n">{{ c.baseline.identity_reviews }}</td>
<td class="n">{{ c.new.identity_reviews }}</td></tr>
</table>

<table>
<caption>Alerts per month</caption>
<tr><th>month</th><th>{{ labels[0] }}</th><th>{{ labels[1] }}</th></tr>
{% for month, (old, now) in c.per_month.items() %}
<tr><td>{{ month }}</td><td class="n">{{ old }}</td><td class="n">{{ now }}</td></tr>
{% endfor %}
</table>

{% if not c.no_difference %}
<table>
<caption>What changes, by rule</caption>
<tr><th>rule</th>{% for k in alert_columns %}<th>alerts {{ k }}</th>{% endfor %}
{% for k in child_columns %}<th>children {{ k }}</th>{% endfor %}
<th>first alert: median shift</th></tr>
{% for rule, alerts, children, middle in rule_rows %}
<tr><td>{{ rule }}</td>{% for n in alerts + children %}<td class="n">{{ n }}</td>{% endfor %}
<td class="n">{{ middle }}</td></tr>
{% endfor %}
</table>

<table>
<caption>Children first flagged at another time ({{ c.first_flags|length }})</caption>
<tr><th>child</th><th>rule</th><th>change</th><th>{{ labels[0] }} first</th>
<th>{{ labels[1] }} first</th><th>shift</th></tr>
{% for f in c.first_flags %}
<tr><td><code>{{ f.child_id }}</code></td><td>{{ f.rule }}</td><td>{{ f.change }}</td>
<td>{{ when(f.baseline_at) }}</td><td>{{ when(f.new_at) }}</td><td>{{ shift(f) }}</td></tr>
{% endfor %}
</table>

<table>
<caption>Alerts that change ({{ c.alerts|length }}), by time</caption>
<tr><th>child</th><th>rule</th><th>change</th><th>{{ labels[0] }} at</th>
<th>{{ labels[1] }} at</th><th>shift</th></tr>
{% for a in c.alerts %}
<tr><td><code>{{ a.child_id }}</code></td><td>{{ a.rule }}</td><td>{{ a.change }}</td>
<td>{{ when(a.baseline_at) }}</td><td>{{ when(a.new_at) }}</td><td>{{ shift(a) }}</td></tr>
{% endfor %}
</table>

<table>
<caption>Notifications that would or would not have been sent ({{ c.disclosures|length }})</caption>
<tr><th>child</th><th>to</th><th>change</th><th>at</th><th>decided by</th></tr>
{% for d in c.disclosures %}
<tr><td><code>{{ d.disclosure.child_id }}</code></td><td>{{ d.disclosure.to_agency }}</td>
<td>{{ d.change }}</td><td>{{ when(d.disclosure.disclosed_at) }}</td>
<td>{{ d.disclosure.decided_by }}</td></tr>
{% else %}<tr><td colspan="5">none</td></tr>{% endfor %}
</table>
{% endif %}
</body>
</html>
"""


def render_html(report: Report) -> str:
    c = report.comparison
    env = Environment(autoescape=True, keep_trailing_newline=True)
    return env.from_string(TEMPLATE).render(
        r=report,
        c=c,
        labels=report.labels,
        rules=sorted(c.baseline.alerts.keys() | c.new.alerts.keys()),
        rule_rows=rule_rows(c),
        alert_columns=ALERT_COLUMNS,
        child_columns=CHILD_COLUMNS,
        chart=month_chart_svg(c.per_month, report.labels),
        shift=shift,
        when=lambda v: v.strftime("%Y-%m-%d %H:%M") if v is not None else "",
    )


def month_chart_svg(per_month: dict[str, tuple[int, int]], labels: tuple[str, str]) -> str:
    """Grouped bars, one pair a month, as an SVG element (text kept as text)."""
    import matplotlib
    from matplotlib.figure import Figure

    months = list(per_month)
    positions = range(len(months))
    width = 0.4
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "what-if"}):
        figure = Figure(figsize=(max(6.0, 0.55 * len(months) + 2), 3.6), layout="constrained")
        axes = figure.subplots()
        axes.bar(
            [p - width / 2 for p in positions],
            [per_month[m][0] for m in months],
            width,
            label=labels[0],
            color="#5b6b7f",
        )
        axes.bar(
            [p + width / 2 for p in positions],
            [per_month[m][1] for m in months],
            width,
            label=labels[1],
            color="#d4661f",
        )
        axes.set_xticks(list(positions), months, rotation=45, ha="right")
        axes.set_ylabel("alerts raised")
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
