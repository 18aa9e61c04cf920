"""The pages of oversight: the timeliness report for managers (with its charts and CSV),
and the disclosure and access log for auditors (and managers).

The report is `broker.oversight.timeliness` over the page's own views (the pictures,
alerts and disclosure audit it reads from the topics), so it is the very report
`mash-broker report timeliness` prints from a replay. It holds counts, never a child's
name, so opening it is not a view of anyone's record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from broker.models import Agency
from broker.oversight.subject_access import subject_access
from broker.oversight.subject_access_pdf import subject_access_pdf
from broker.oversight.timeliness import MEASURE_BY_KEY, MEASURES, TimelinessReport, timeliness
from broker.web.audit_log import LogFilter, entries, filtered
from broker.web.auth import Role
from broker.web.charts import describe, measure_chart
from broker.web.http import WebContext, audit_access, context, render, require_user

MANAGERS: Final = frozenset({Role.manager})
AUDITORS: Final = frozenset({Role.auditor, Role.manager})
LOG_SHOWN: Final = 200
"""Entries shown at once, the latest first (filters narrow the rest down)."""


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


def log_filter(params: Mapping[str, str]) -> LogFilter:
    """The log's filters from the query string; 400 for a value that is not one."""
    agency = params.get("agency") or None
    kind = params.get("kind") or None
    if agency is not None and agency not in Agency.__members__:
        raise HTTPException(400, "There is no such agency to filter by.")
    if kind not in (None, "told", "saw"):
        raise HTTPException(400, "Choose told, saw or both.")
    try:
        start = date.fromisoformat(params["from"]) if params.get("from") else None
        end = date.fromisoformat(params["to"]) if params.get("to") else None
    except ValueError:
        raise HTTPException(400, "Give the dates as YYYY-MM-DD.") from None
    worker = (params.get("worker") or "").strip()[:100] or None
    child = (params.get("child") or "").strip()[:100] or None
    return LogFilter(agency=agency, worker=worker, start=start, end=end, kind=kind, child=child)


async def audit_page(request: Request) -> Response:
    """The log. Every child whose entries are shown is recorded on audit.access.v1
    (`audit_log`) before the page is: the auditor's reading is itself accountable."""
    user = require_user(request, AUDITORS)
    ctx = context(request)
    wanted = log_filter(request.query_params)
    views = ctx.views
    found = filtered(
        entries(views.all_disclosures(), views.all_accesses()), wanted, ctx.config.calendar.tz
    )
    shown = found[:LOG_SHOWN]
    names = {}
    for child_id in dict.fromkeys(e.child_id for e in shown):
        await audit_access(request, user, "audit_log", child_id)
        picture = views.picture(child_id)
        if picture is not None and picture.identity is not None:
            names[child_id] = f"{picture.identity.given_name} {picture.identity.family_name}"
    values = {
        "entries": shown,
        "total": len(found),
        "names": names,
        "wanted": wanted,
        "agencies": [a.value for a in Agency],
        "active": "audit",
    }
    return render(request, "audit.html", values)


async def subject_access_download(request: Request) -> Response:
    """A child's subject access record, as PDF or JSON (manager or auditor). Generating
    it is a view of the child's whole record: it is recorded on audit.access.v1 first."""
    user = require_user(request, AUDITORS)
    ctx = context(request)
    child_id = request.path_params["child_id"]
    kind = request.path_params["kind"]
    views = ctx.views
    if kind not in ("pdf", "json"):
        raise HTTPException(404, "There is no such format.")
    if not views.known_child(child_id):
        raise HTTPException(404, "There is no child with that id.")
    await audit_access(request, user, "subject_access", child_id)
    record = subject_access(
        child_id,
        views.picture(child_id),
        views.alerts_for_child(child_id),
        views.disclosures(child_id),
        views.all_accesses(),
        generated_at=ctx.clock(),
        requested_by=f"{user.name} ({user.role.value})",
    )
    name = f"subject-access-{child_id}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "json":
        body = json.dumps(record, ensure_ascii=False, indent=2).encode()
        return Response(body, media_type="application/json", headers=headers)
    return Response(subject_access_pdf(record), media_type="application/pdf", headers=headers)
