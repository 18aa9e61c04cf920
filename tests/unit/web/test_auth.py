"""Users, passwords, lockout, roles and CSRF tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.errors import ConfigurationError
from broker.models import DecisionKind, RuleId
from broker.settings import Settings
from broker.web.auth import (
    Role,
    User,
    UserStore,
    csrf_matches,
    decision_refused,
    identity_refused,
    new_csrf_token,
)
from tests.unit.web.world import CHEAP, World

SAM = User("sam", "Sam Reed", Role.practitioner)
PRIYA = User("priya", "Priya Shah", Role.manager)


def store_in(tmp_path: Path, users: list[dict[str, str]]) -> UserStore:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": users}))
    return UserStore.from_file(path)


def entry(username: str, password: str = "pw", role: str = "practitioner") -> dict[str, str]:
    return {
        "username": username,
        "name": username.title(),
        "role": role,
        "password_hash": CHEAP.hash(password),
    }


def test_the_right_password_gives_the_user_and_a_wrong_one_nothing(tmp_path: Path) -> None:
    store = store_in(tmp_path, [entry("sam", "right")])
    assert store.verify("sam", "right") == User("sam", "Sam", Role.practitioner)
    assert store.verify("sam", "wrong") is None
    assert store.verify("nobody", "right") is None
    assert store.get("sam") is not None
    assert store.get("nobody") is None


def test_five_wrong_passwords_lock_the_login_for_a_while(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": [entry("sam", "right")]}))
    store = UserStore.from_file(path)
    store._clock = lambda: now[0]
    for _ in range(5):
        assert store.verify("sam", "wrong") is None
    assert store.locked("sam")
    assert store.verify("sam", "right") is None  # locked, even with the right password
    now[0] += UserStore.LOCKOUT_SECONDS + 1
    assert not store.locked("sam")
    assert store.verify("sam", "right") is not None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"users": []}),
        json.dumps(
            {
                "users": [
                    {
                        "username": "sam",
                        "name": "Sam",
                        "role": "admin",
                        "password_hash": "$argon2id$x",
                    }
                ]
            }
        ),
        json.dumps(
            {
                "users": [
                    {
                        "username": "sam",
                        "name": "Sam",
                        "role": "manager",
                        "password_hash": "plaintext",
                    }
                ]
            }
        ),
        json.dumps({"users": [entry("sam"), entry("sam")]}),
    ],
)
def test_a_bad_users_file_stops_the_page(tmp_path: Path, content: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        UserStore.from_file(path)
    assert "$argon2" not in str(caught.value)


def test_the_demo_users_file_loads_with_both_roles() -> None:
    store = UserStore.from_file(Settings().web_users_file)
    assert store.get("sam") == SAM
    assert store.get("priya") == PRIYA


def test_what_a_practitioner_may_not_decide(world: World) -> None:
    unshared = world.alert("UNSHARED_RISK", "Lily")
    consent = world.alert("CONSENT_DECISION_REQUIRED", "Amelia")
    for kind in DecisionKind:
        assert decision_refused(PRIYA, kind, consent) is None
    assert (
        decision_refused(SAM, DecisionKind.section_47, unshared)
        == "Only a manager can start a section 47 enquiry."
    )
    assert decision_refused(SAM, DecisionKind.share, unshared) is None
    assert decision_refused(SAM, DecisionKind.strategy_discussion, unshared) is None
    assert decision_refused(SAM, DecisionKind.share, consent) is not None
    assert decision_refused(SAM, DecisionKind.no_share, consent) is None
    assert consent.rule_id == RuleId.CONSENT_DECISION_REQUIRED
    assert identity_refused(SAM) is not None
    assert identity_refused(PRIYA) is None


def test_csrf_tokens_are_random_and_compared_exactly() -> None:
    token = new_csrf_token()
    assert len(token) >= 40
    assert token != new_csrf_token()
    assert csrf_matches(token, token)
    assert not csrf_matches(token, token[:-1])
    assert not csrf_matches(None, token)
    assert not csrf_matches("", "")
    assert not csrf_matches(token, None)
