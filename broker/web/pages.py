"""The pages a practitioner reads: the queue (live), an alert, a child.

Every page that shows a child's record (an alert, a child, the candidates of an
identity review) is recorded on audit.access.v1 before it is shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from broker.models import Agency, Alert, DecisionKind, RuleId, Severity
from broker.picture.apply import CHRONOLOGY_TYPES
from broker.picture.chronology import chronology
from broker.picture.derived import agencies_involved, current_school, in_agency_order
from broker.web.auth import User, decision_refused, identity_refused
from broker.web.decisions import SHAREABLE, FormProblem, candidates, share_previews
from broker.web.http import audit_access, context, render, require_user
from broker.web.present import DECISION_HINTS
from broker.web.since import since_alert
from broker.web.views import QueueFilter

_SHAREABLE_TYPES = frozenset(cls.model_fields["event_type"].default for cls in CHRONOLOGY_TYPES)


def queue_filter(params: Mapping[str, str]) -> QueueFilter:
    """The queue's filters from the query string; 400 for a value that is not one."""
    rule = params.get("rule") or None
    severity = params.get("severity") or None
    if rule is not None and rule not in RuleId.__members__:
        raise HTTPException(400, "There is no such rule to filter by.")
    if severity is not None and severity not in Severity.__members__:
        raise HTTPException(400, "There is no such severity to filter by.")
    return QueueFilter(
        rule=RuleId(rule) if rule else None,
        severity=Severity(severity) if severity else None,
        team=params.get("team") or None,
        overdue_only=params.get("overdue") in ("1", "on", "true"),
    )


def _queue_values(request: Request) -> dict[str, Any]:
    ctx = context(request)
    wanted = queue_filter(request.query_params)
    now = ctx.clock()
    rules, teams = ctx.views.facets(now)
    return {
        "rows": ctx.views.open_queue(now, wanted),
        "wanted": wanted,
        "rules": rules,
        "teams": teams,
        "severities": list(Severity),
        "ready": ctx.is_ready(),
        "version": ctx.views.version,
    }


async def queue(request: Request) -> Response:
    require_user(request)
    flash = request.session.pop("flash", None)
    return render(request, "queue.html", {**_queue_values(request), "flash": flash})


async def queue_rows(request: Request) -> Response:
    """The queue's table body alone, for the live update."""
    require_user(request)
    return render(request, "_queue_rows.html", _queue_values(request))


async def queue_stream(request: Request) -> Response:
    """Server-sent events: `queue` whenever the views change. Each stream ends after
    `stream_seconds` and the browser reconnects, so a logged-out session stops here."""
    require_user(request)
    ctx = context(request)

    async def events() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        end = loop.time() + ctx.stream_seconds
        yield f"retry: 2000\nevent: queue\ndata: {ctx.views.version}\n\n"
        while (left := end - loop.time()) > 0:
            if await ctx.changes.wait(min(15.0, left)):
                yield f"event: queue\ndata: {ctx.views.version}\n\n"
            else:
                yield ": still here\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _alert_or_404(request: Request) -> Alert:
    alert = context(request).views.alert(request.path_params["alert_id"])
    if alert is None:
        raise HTTPException(404, "There is no alert with that id.")
    return alert


async def alert_page(request: Request) -> Response:
    user = require_user(request)
    return await show_alert(request, user, _alert_or_404(request))


async def show_alert(
    request: Request,
    user: User,
    alert: Alert,
    *,
    problems: Sequence[FormProblem] = (),
    form: Mapping[str, Any] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    """The alert page (also re-shown, with the problems, when a form is refused)."""
    ctx = context(request)
    views = ctx.views
    now = ctx.clock()
    picture = views.picture(alert.child.child_id)
    identity_review = alert.rule_id == RuleId.IDENTITY_REVIEW
    others = candidates(alert) if identity_review else []
    await audit_access(request, user, "alert", alert.child.child_id, alert.alert_id)
    for other in others:
        if views.picture(other) is not None:
            await audit_access(request, user, "identity_review", other, alert.alert_id)
    summary = picture.event(alert.triggered_by[0]) if picture else None
    previews = (
        share_previews(picture, summary, ctx.config, now)
        if picture and summary and summary.event_type in _SHAREABLE_TYPES
        else []
    )
    kinds = [
        {"value": k.value, "hint": DECISION_HINTS[k], "refused": decision_refused(user, k, alert)}
        for k in DecisionKind
    ]
    chosen = form.get("share_with") if form else None
    values = {
        "alert": alert,
        "closure": views.closure(alert),
        "team": views.team(alert),
        "time_left": alert.due_by - now if alert.due_by else None,
        "picture": picture,
        "merged_away": views.merged_away(alert.child.child_id),
        "rows": chronology(picture) if picture else [],
        "evidence": [(e, picture.event(e) if picture else None) for e in alert.triggered_by],
        "kinds": kinds,
        "previews": previews,
        "shareable": [a.value for a in SHAREABLE],
        "share_chosen": set(chosen) if chosen else {a.value for a in alert.unshared_with},
        "closed_with": views.closed_with(alert),
        "identity_review": identity_review,
        "candidates": [(c, views.picture(c)) for c in others],
        "identity_refused": identity_refused(user),
        "problems": list(problems),
        "form": form or {},
        "notice": notice,
        "since": since_alert(alert, picture) if alert.context else None,
    }
    return render(request, "alert.html", values, status=status)


async def child_page(request: Request) -> Response:
    user = require_user(request)
    ctx = context(request)
    child_id = request.path_params["child_id"]
    views = ctx.views
    if not views.known_child(child_id):
        raise HTTPException(404, "There is no child with that id.")
    await audit_access(request, user, "child", child_id)
    picture = views.picture(child_id)
    alerts = views.alerts_for_child(child_id)
    values = {
        "child_id": child_id,
        "picture": picture,
        "merged_away": views.merged_away(child_id),
        "decided_with": views.decided_with(child_id),
        "involved": in_agency_order(set(agencies_involved(picture))) if picture else [],
        "school": current_school(picture) if picture else None,
        "rows": chronology(picture) if picture else [],
        "open_alerts": [a for a in alerts if views.is_open(a)],
        "closed_alerts": [(a, views.closure(a)) for a in alerts if not views.is_open(a)],
        "disclosures": views.disclosures(child_id),
        "fallback": alerts[0].child if alerts else None,
        "agency_order": [a.value for a in Agency],
    }
    return render(request, "child.html", values)


async def live(request: Request) -> Response:
    return JSONResponse({"live": True})


async def ready(request: Request) -> Response:
    """Ready once the views have caught up with the topics (no child's data here)."""
    is_ready = context(request).is_ready()
    return JSONResponse({"ready": is_ready}, status_code=200 if is_ready else 503)
