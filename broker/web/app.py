"""The MASH page as an ASGI app (Starlette): routes, sessions, headers, errors.

`create_app` wires a `WebContext` into the routes; it opens no connection itself (the
composition in `broker.web.server` starts the Kafka feed and producer in the lifespan),
so route tests build it over in-memory views and a fake publisher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.errors import InfrastructureError
from broker.web import actions, oversight, pages
from broker.web.auth import home_for
from broker.web.http import HERE, NotLoggedIn, WebContext, current_user, render

log = logging.getLogger("broker.web")

SESSION_COOKIE: Final = "mash_session"

SECURITY_HEADERS: Final = {
    b"content-security-policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Headers on every answer; pages are never cached (they hold children's records)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


async def _not_logged_in(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/queue/") or request.method != "GET":
        return JSONResponse({"error": "log in first"}, status_code=401)
    return RedirectResponse(f"/login?next={request.url.path}", 303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return render(
        request, "error.html", {"status": exc.status_code, "message": exc.detail}, exc.status_code
    )


async def _kafka_away(request: Request, exc: Exception) -> Response:
    log.warning("page refused: kafka unavailable", extra={"error": type(exc).__name__})
    message = (
        "The page could not reach Kafka, so nothing was shown or recorded. "
        "Try again in a minute; tell the service desk if it goes on."
    )
    return render(request, "error.html", {"status": 503, "message": message}, 503)


async def _home(request: Request) -> Response:
    user = current_user(request)
    return RedirectResponse(home_for(user) if user else "/queue", 303)


def create_app(
    ctx: WebContext,
    *,
    session_secret: str,
    session_max_age: int = 8 * 3600,
    https_only: bool = False,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    routes = [
        Route("/", _home),
        Route("/login", actions.login_page, methods=["GET"]),
        Route("/login", actions.login, methods=["POST"]),
        Route("/logout", actions.logout, methods=["POST"]),
        Route("/queue", pages.queue),
        Route("/queue/rows", pages.queue_rows),
        Route("/queue/stream", pages.queue_stream),
        Route("/alerts/{alert_id}", pages.alert_page, methods=["GET"]),
        Route("/alerts/{alert_id}/decision", actions.decide, methods=["POST"]),
        Route("/alerts/{alert_id}/identity", actions.decide_identity, methods=["POST"]),
        Route("/children/{child_id}", pages.child_page),
        Route("/report", oversight.report_page),
        Route("/report.csv", oversight.report_csv),
        Route("/report/charts/{measure}.png", oversight.report_chart),
        Route("/audit", oversight.audit_page),
        Route("/children/{child_id}/subject-access.{kind}", oversight.subject_access_download),
        Route("/health/live", pages.live),
        Route("/health/ready", pages.ready),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=session_secret,
            session_cookie=SESSION_COOKIE,
            max_age=session_max_age,
            same_site="strict",
            https_only=https_only,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            NotLoggedIn: _not_logged_in,
            HTTPException: _http_error,
            InfrastructureError: _kafka_away,
        },
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
