"""Fixtures of the page's unit tests: the demo world, the app over it, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from broker.web.app import create_app
from broker.web.auth import UserStore
from broker.web.feed import Changes
from broker.web.http import WebContext
from tests.unit.web.world import (
    CODEC,
    CONFIG,
    NOW,
    PASSWORDS,
    FakePublisher,
    World,
    demo_world,
    users_file,
)

_WORLD: list[World] = []


@pytest.fixture
def world() -> World:
    if not _WORLD:  # built once: the engine's replay of the demo takes a moment
        _WORLD.append(demo_world())
    return _WORLD[0]


@pytest.fixture(scope="session")
def users_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return users_file(tmp_path_factory.mktemp("users") / "users.json")


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def ctx(world: World, publisher: FakePublisher, users_path: Path) -> WebContext:
    return WebContext(
        views=world.views(),
        changes=Changes(),
        publisher=publisher,
        codec=CODEC,
        users=UserStore.from_file(users_path),
        config=CONFIG,
        clock=lambda: NOW,
        stream_seconds=0.3,
    )


@pytest.fixture
def client(ctx: WebContext) -> Iterator[TestClient]:
    app = create_app(ctx, session_secret="test-secret-" + "x" * 32)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str | None = None) -> str:
    """Log in; the session's CSRF token (from the next page)."""
    token = token_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": password or PASSWORDS[username],
            "csrf_token": token,
        },
    )
    assert answer.status_code == 303, answer.text
    return token_of(client.get("/queue").text)


@pytest.fixture
def as_user(client: TestClient) -> Callable[[str], str]:
    return lambda username: log_in(client, username)
