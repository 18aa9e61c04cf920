"""Logging in and out, what needs a login, CSRF on every form, headers, health."""

from __future__ import annotations

import base64
import json

import pytest
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from broker.web.actions import safe_next
from broker.web.app import SESSION_COOKIE
from tests.unit.web.conftest import log_in, token_of
from tests.unit.web.world import FakePublisher


@pytest.mark.parametrize("path", ["/queue", "/alerts/anything", "/children/anything"])
def test_pages_need_a_login(client: TestClient, path: str, publisher: FakePublisher) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"
    assert publisher.sent == []


@pytest.mark.parametrize("path", ["/queue/rows", "/queue/stream"])
def test_scripts_are_told_401(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401


def test_the_home_goes_to_the_queue(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/queue"


def test_the_right_password_logs_in_and_goes_where_it_was_going(client: TestClient) -> None:
    page = client.get("/login?next=/children/x")
    assert page.status_code == 200
    assert '<label for="field-username">User name</label>' in page.text
    answer = client.post(
        "/login",
        data={
            "username": "Sam",
            "password": "practitioner-pw",
            "csrf_token": token_of(page.text),
            "next": "/children/x",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/children/x"
    queue = client.get("/queue")
    assert queue.status_code == 200
    assert "Sam Reed" in queue.text
    assert "(practitioner)" in queue.text


def test_a_wrong_password_is_refused_without_saying_which_was_wrong(client: TestClient) -> None:
    token = token_of(client.get("/login").text)
    for username, password in (("sam", "nope"), ("nobody", "practitioner-pw"), ("sam", "")):
        answer = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert answer.status_code == 401
        assert "The user name or password is not right." in answer.text
        assert 'role="alert"' in answer.text
    assert client.get("/queue").status_code == 303


def test_many_wrong_passwords_lock_the_login(client: TestClient) -> None:
    token = token_of(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"username": "sam", "password": "nope", "csrf_token": token})
    answer = client.post(
        "/login", data={"username": "sam", "password": "practitioner-pw", "csrf_token": token}
    )
    assert answer.status_code == 429
    assert "Try again in 15 minutes" in answer.text


def test_logging_in_needs_the_page_s_token(client: TestClient) -> None:
    client.get("/login")
    forged = client.post(
        "/login", data={"username": "sam", "password": "practitioner-pw", "csrf_token": "made-up"}
    )
    assert forged.status_code == 403
    assert "did not come from this page" in forged.text
    missing = client.post("/login", data={"username": "sam", "password": "practitioner-pw"})
    assert missing.status_code == 403
    assert client.get("/queue").status_code == 303


def test_the_session_is_new_after_login(client: TestClient) -> None:
    before = token_of(client.get("/login").text)
    after = log_in(client, "sam")
    assert before != after


def test_logging_out_needs_the_token_and_ends_the_session(client: TestClient) -> None:
    token = log_in(client, "sam")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/queue").status_code == 200
    answer = client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert client.get("/queue").status_code == 303


def test_a_session_cookie_signed_with_another_key_is_ignored(client: TestClient) -> None:
    log_in(client, "sam")
    payload = base64.b64encode(json.dumps({"user": "priya", "csrf": "t"}).encode())
    forged = TimestampSigner("a key that is not the page's").sign(payload).decode()
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, forged)
    assert client.get("/queue").status_code == 303


def test_the_session_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    answer = client.get("/login")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_security_headers_and_no_caching_of_pages(client: TestClient) -> None:
    log_in(client, "sam")
    answer = client.get("/queue")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/static/mash.css").status_code == 200


def test_health_answers_without_a_login(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"live": True}
    assert client.get("/health/ready").json() == {"ready": True}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/queue"),
        ("/children/c1", "/children/c1"),
        ("https://evil.example/", "/queue"),
        ("//evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
        ("queue", "/queue"),
    ],
)
def test_after_login_only_pages_of_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
