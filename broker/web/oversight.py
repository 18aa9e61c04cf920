"""The pages of oversight: the timeliness report for managers (with its charts and CSV).

The report is `broker.oversight.timeliness` over the page's own views (the pictures,
alerts and disclosure audit it reads from the topics), so it is the very report
`mash-broker report timeliness` prints from a replay. It holds counts, never a child's
name, so opening it is not a view of anyone's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from broker.oversight.timeliness import MEASURE_BY_KEY, MEASURES, TimelinessReport, timeliness
from broker.web.auth import Role
from broker.web.charts import describe, measure_chart
from broker.web.http import WebContext, context, render, require_user

MANAGERS: Final = frozenset({Role.manager})


def _month_start(d: date, back: int = 0) -> date:
    months = d.year * 12 + d.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def report_window(params: Mapping[str, str], today: date) -> tuple[date, date]:
    """`from` and `to` (to excluded) from the query string; by default the last six
    months, this one included. 400 for a date that is not one."""
    try:
        start = date.fromisoformat(params["from"]) if params.get("from") else None
        end = date.fromisoformat(params["to"]) if params.get("to") else None
    except ValueError:
        raise HTTPException(400, "Give the dates as YYYY-MM-DD.") from None
    end = end or _month_start(today, -1)
    start = start or _month_start(end, 6)
    if start >= end:
        raise HTTPException(400, "The start of the period must be before its end.")
    return start, end


def _report(request: Request) -> tuple[TimelinessReport, date, date]:
    ctx: WebContext = context(request)
    tz = ctx.config.calendar.tz
    now = ctx.clock()
    start, end = report_window(request.query_params, now.astimezone(tz).date())

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(0), tz)

    views = ctx.views
    report = timeliness(
        views.all_pictures(),
        views.all_alerts(),
        views.all_disclosures(),
        ctx.config,
        start=midnight(start),
        end=midnight(end),
        as_of=now,
    )
    return report, start, end


async def report_page(request: Request) -> Response:
    require_user(request, MANAGERS)
    report, start, end = _report(request)
    query = f"from={start.isoformat()}&to={end.isoformat()}"
    sections = [
        {
            "measure": m,
            "rows": [r for r in report.rows if r.measure == m.key],
            "total": report.totals(m.key),
            "alt": describe(report, m.key),
            "chart": f"/report/charts/{m.key}.png?{query}",
        }
        for m in MEASURES
    ]
    values = {
        "sections": sections,
        "start": start,
        "end": end,
        "query": query,
        "active": "report",
    }
    return render(request, "report.html", values)


async def report_csv(request: Request) -> Response:
    require_user(request, MANAGERS)
    report, start, end = _report(request)
    name = f"timeliness-{start.isoformat()}-{end.isoformat()}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(report.to_csv(), media_type="text/csv; charset=utf-8", headers=headers)


async def report_chart(request: Request) -> Response:
    require_user(request, MANAGERS)
    measure = request.path_params["measure"]
    if measure not in MEASURE_BY_KEY:
        raise HTTPException(404, "There is no such measure.")
    report, _, _ = _report(request)
    return Response(measure_chart(report, measure), media_type="image/png")
