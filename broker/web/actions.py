"""What a practitioner does on the page: log in and out, decide on an alert, answer an
identity review. Every POST carries the session's CSRF token (`checked_form`); a refused
form is shown again with every problem, and nothing is published.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from broker.models import Alert, DecisionKind, RuleId
from broker.picture.apply import CHRONOLOGY_TYPES
from broker.topics import INBOUND
from broker.web.auth import decision_refused, home_for, identity_refused, new_csrf_token
from broker.web.decisions import (
    FormErrors,
    FormProblem,
    build_decision,
    build_identity_decision,
    read_decision,
    read_identity,
)
from broker.web.http import checked_form, context, current_user, render, require_user
from broker.web.pages import show_alert
from broker.web.present import decision_title
from broker.web.views import DecisionSeen, IdentityDecisionSeen

DECISIONS = INBOUND["mash.decision"].name
IDENTITY_DECISIONS = INBOUND["mash.identity_decision"].name
_SHAREABLE_TYPES = frozenset(cls.model_fields["event_type"].default for cls in CHRONOLOGY_TYPES)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host)."""
    if not target:
        return "/queue"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/queue"
    if "\\" in target:
        return "/queue"
    return target


async def login_page(request: Request) -> Response:
    user = current_user(request)
    if user is not None:
        wanted = request.query_params.get("next")
        return RedirectResponse(safe_next(wanted) if wanted else home_for(user), 303)
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next"))})


async def login(request: Request) -> Response:
    form = await checked_form(request)
    users = context(request).users
    username = str(form.get("username") or "").strip().lower()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    if users.locked(username):
        error = "Too many wrong passwords for this user. Try again in 15 minutes."
        return render(request, "login.html", {"error": error, "next": target}, status=429)
    user = users.verify(username, password) if username and password else None
    if user is None:
        error = "The user name or password is not right."
        values = {"error": error, "next": target, "username": username}
        return render(request, "login.html", values, status=401)
    request.session.clear()  # a new session (and token) for the logged-in user
    request.session.update(user=user.username, csrf=new_csrf_token())
    if target == "/queue":  # the default: each role's own home
        target = home_for(user)
    return RedirectResponse(target, 303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", 303)


def _alert(request: Request) -> Alert:
    alert = context(request).views.alert(request.path_params["alert_id"])
    if alert is None:
        raise HTTPException(404, "There is no alert with that id.")
    return alert


def _closed_notice(request: Request, alert: Alert) -> str | None:
    closure = context(request).views.closure(alert)
    if closure is None:
        return None
    return (
        f"This alert was already closed ({decision_title(closure.decision)}, by "
        f"{closure.decided_by}). Nothing was recorded."
    )


async def decide(request: Request) -> Response:
    user = require_user(request)
    form = await checked_form(request)
    alert = _alert(request)
    ctx = context(request)
    fields = {
        "decision": str(form.get("decision") or ""),
        "rationale": str(form.get("rationale") or ""),
    }
    share_with = [str(v) for v in form.getlist("share_with")]
    shown = {**fields, "share_with": share_with}
    if (notice := _closed_notice(request, alert)) is not None:
        return await show_alert(request, user, alert, status=409, notice=notice)
    if alert.rule_id == RuleId.IDENTITY_REVIEW:
        problem = FormProblem("decision", "Answer an identity review with an identity decision.")
        return await show_alert(request, user, alert, problems=[problem], form=shown, status=400)
    try:
        given = read_decision(fields, share_with)
        if (refused := decision_refused(user, given.kind, alert)) is not None:
            return await show_alert(
                request,
                user,
                alert,
                problems=[FormProblem("decision", refused)],
                form=shown,
                status=403,
            )
        picture = ctx.views.picture(alert.child.child_id)
        summary = picture.event(alert.triggered_by[0]) if picture else None
        if given.kind == DecisionKind.share and (
            summary is None or summary.event_type not in _SHAREABLE_TYPES
        ):
            raise FormErrors(
                [
                    FormProblem(
                        "decision", "The event behind this alert cannot be shared from the page."
                    )
                ]
            )
        decision = build_decision(alert, picture, given, user.name, ctx.clock())
    except FormErrors as errors:
        return await show_alert(
            request, user, alert, problems=errors.problems, form=shown, status=400
        )
    await ctx.publisher.publish(
        DECISIONS, decision.event_id, ctx.codec.encode(decision, topic=DECISIONS)
    )
    if ctx.views.apply(DecisionSeen(decision)):  # the page need not wait for the topic
        ctx.changes.notify()
    request.session["flash"] = (
        f"Decision recorded: {decision_title(decision.decision)} for "
        f"{alert.child.given_name} {alert.child.family_name}."
    )
    return RedirectResponse("/queue", 303)


async def decide_identity(request: Request) -> Response:
    user = require_user(request)
    form = await checked_form(request)
    alert = _alert(request)
    ctx = context(request)
    fields = {
        "identity_decision": str(form.get("identity_decision") or ""),
        "rationale": str(form.get("rationale") or ""),
        "other_child_id": str(form.get("other_child_id") or ""),
    }
    chosen = [str(v) for v in form.getlist("child_ids")]
    shown = {**fields, "child_ids": chosen}
    if alert.rule_id != RuleId.IDENTITY_REVIEW:
        raise HTTPException(400, "Only an identity review is answered with an identity decision.")
    if (notice := _closed_notice(request, alert)) is not None:
        return await show_alert(request, user, alert, status=409, notice=notice)
    if (refused := identity_refused(user)) is not None:
        problem = FormProblem("identity_decision", refused)
        return await show_alert(request, user, alert, problems=[problem], form=shown, status=403)
    try:
        given = read_identity(fields, chosen)
        decision = build_identity_decision(alert, given, user.name, ctx.clock())
    except FormErrors as errors:
        return await show_alert(
            request, user, alert, problems=errors.problems, form=shown, status=400
        )
    value = ctx.codec.encode(decision, topic=IDENTITY_DECISIONS)
    await ctx.publisher.publish(IDENTITY_DECISIONS, decision.event_id, value)
    if ctx.views.apply(IdentityDecisionSeen(decision)):
        ctx.changes.notify()
    request.session["flash"] = f"Identity decision recorded: {decision_title(decision.decision)}."
    return RedirectResponse("/queue", 303)
