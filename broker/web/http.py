"""What every route shares: the context it is handed, who is logged in, CSRF, the
access audit, and rendering.

The context (`WebContext`) is built once by the composition (`broker.web.server`, or a
test) and hung on the app's state: views, the publisher port, the codec, users, the
partnership configuration and the clock. Routes reach nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from broker.codec import AvroCodec
from broker.config.partnership import PartnershipConfig
from broker.models import AccessAudit
from broker.topics import AUDIT_ACCESS
from broker.web import present
from broker.web.auth import CASE_ROLES, Role, User, UserStore, csrf_matches, new_csrf_token
from broker.web.feed import Changes
from broker.web.publisher import Publisher
from broker.web.views import MashViews

HERE: Final = Path(__file__).resolve().parent
CSRF_FIELD: Final = "csrf_token"


@dataclass
class WebContext:
    views: MashViews
    changes: Changes
    publisher: Publisher
    codec: AvroCodec
    users: UserStore
    config: PartnershipConfig
    clock: Callable[[], datetime]
    stream_seconds: float = 300.0
    is_ready: Callable[[], bool] = field(default=lambda: True)


class NotLoggedIn(Exception):
    """Raised by `require_user`; answered with the login page (or 401 for scripts)."""


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def current_user(request: Request) -> User | None:
    name = request.session.get("user")
    return context(request).users.get(name) if isinstance(name, str) else None


def require_user(request: Request, roles: Collection[Role] = CASE_ROLES) -> User:
    """The logged-in user, if their role may see this page (403 otherwise). By default
    the casework roles: the queue, alerts, children and decisions."""
    user = current_user(request)
    if user is None:
        raise NotLoggedIn
    if user.role not in roles:
        raise HTTPException(403, "Your role does not give you access to this page.")
    return user


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is the session's; 403 otherwise."""
    form = await request.form(max_files=0, max_fields=200)
    if not csrf_matches(request.session.get("csrf"), form.get(CSRF_FIELD)):
        raise HTTPException(403, "This form has expired or did not come from this page.")
    return form


async def audit_access(
    request: Request, user: User, what: str, child_id: str, alert_id: str | None = None
) -> None:
    """Record on audit.access.v1 that `user` is being shown this child's record. It is
    published before the page is shown: if it cannot be recorded, the page is not shown."""
    ctx = context(request)
    record = AccessAudit(
        access_id=str(uuid.uuid4()),
        user=user.username,
        user_name=user.name,
        role=user.role.value,
        what=what,
        child_id=child_id,
        alert_id=alert_id,
        accessed_at=ctx.clock(),
    )
    value = ctx.codec.encode(record, topic=AUDIT_ACCESS.name)
    await ctx.publisher.publish(AUDIT_ACCESS.name, child_id, value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        rule_title=present.rule_title,
        decision_title=present.decision_title,
        agency_title=present.agency_title,
        concern_title=present.concern_title,
        status_title=present.status_title,
        field_title=present.field_title,
        identifier_title=present.identifier_title,
        local_time=present.local_time,
        local_day=present.local_day,
        iso=present.iso,
        time_left=present.time_left,
        event_title=present.event_title,
        value_text=present.value_text,
    )
    env.globals["age"] = present.age
    return env


TEMPLATES: Final = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, values: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """A page, with the user, the CSRF token and the time in every template."""
    data = {
        "user": current_user(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "now": context(request).clock(),
        **(values or {}),
    }
    return TEMPLATES.TemplateResponse(request, name, data, status_code=status)
