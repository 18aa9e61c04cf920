"""Who may use the MASH page, and what each role may decide.

Users come from a JSON file (`MASH_WEB_USERS_FILE`) of login names, names, roles and
argon2id password hashes: a council plugs its own directory in by writing that file (or
replacing `UserStore`). Passwords are checked with argon2-cffi; an unknown login costs
the same as a wrong password, and repeated failures lock the login for a while.

Roles (docs/web.md): an **auditor** reads the disclosure and access log (who saw or was
told what, when, on which lawful basis) and nothing of the casework. A **practitioner**
works the queue, reads alerts and children, and records the MASH's everyday decisions.
A **manager** may also do what needs a manager's authority in a MASH: start a section 47
enquiry, share without consent where consent was refused (CONSENT_DECISION_REQUIRED),
and decide whether two records are one child (an identity decision; a wrong merge sends
one child's information to another's school); and reads the timeliness report.
"""

from __future__ import annotations

import enum
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from broker.errors import ConfigurationError
from broker.models import Alert, DecisionKind, RuleId


class Role(enum.StrEnum):
    practitioner = "practitioner"
    manager = "manager"
    auditor = "auditor"


CASE_ROLES: Final = frozenset({Role.practitioner, Role.manager})
"""Who works cases: the queue, alerts, children, decisions. Not the auditor, who reads
the disclosure and access log only (docs/web.md)."""


def home_for(user: User) -> str:
    """Where a user lands after logging in."""
    return "/audit" if user.role == Role.auditor else "/queue"


@dataclass(frozen=True, slots=True)
class User:
    username: str
    name: str
    role: Role


class _UserEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(min_length=1, pattern=r"^[a-z0-9._-]+$")
    name: str = Field(min_length=1)
    role: Role
    password_hash: str = Field(pattern=r"^\$argon2id\$")


class _UsersFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str | None = None
    users: list[_UserEntry]


class UserStore:
    """The users of the page; `verify` is the only way to get one with a password."""

    MAX_FAILURES: Final = 5
    LOCKOUT_SECONDS: Final = 15 * 60

    def __init__(
        self,
        entries: list[_UserEntry],
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries = {e.username: e for e in entries}
        self._hasher = hasher or PasswordHasher()
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        # An unknown login is checked against this, so it takes as long as a known one.
        self._decoy = entries[0].password_hash if entries else self._hasher.hash("x")

    @classmethod
    def from_file(cls, path: Path) -> UserStore:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"users file {path} cannot be read: {exc}") from exc
        try:
            parsed = _UsersFile.model_validate(raw)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise ConfigurationError(f"users file {path}: invalid ({fields})") from None
        if len({u.username for u in parsed.users}) != len(parsed.users):
            raise ConfigurationError(f"users file {path}: a login name is listed twice")
        if not parsed.users:
            raise ConfigurationError(f"users file {path}: no users")
        return cls(parsed.users)

    def get(self, username: str) -> User | None:
        entry = self._entries.get(username)
        return User(entry.username, entry.name, entry.role) if entry else None

    def locked(self, username: str) -> bool:
        now = self._clock()
        recent = [t for t in self._failures.get(username, []) if now - t < self.LOCKOUT_SECONDS]
        self._failures[username] = recent
        return len(recent) >= self.MAX_FAILURES

    def verify(self, username: str, password: str) -> User | None:
        """The user, when the password is theirs and the login is not locked."""
        entry = self._entries.get(username)
        locked = self.locked(username)
        ok: bool
        try:
            ok = self._hasher.verify(entry.password_hash if entry else self._decoy, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if entry is None or not ok or locked:
            if not locked:
                if len(self._failures) > 10_000:  # a bound against made-up logins
                    self._failures.clear()
                self._failures.setdefault(username, []).append(self._clock())
            return None
        self._failures.pop(username, None)
        return User(entry.username, entry.name, entry.role)


def hash_password(password: str) -> str:
    """An argon2id hash for the users file (`python -m broker.web.auth`)."""
    return PasswordHasher().hash(password)


MANAGER_DECISIONS: Final = frozenset({DecisionKind.section_47})


def decision_refused(user: User, kind: DecisionKind, alert: Alert) -> str | None:
    """Why this user may not record this decision on this alert (None: they may)."""
    if user.role == Role.manager:
        return None
    if kind in MANAGER_DECISIONS:
        return "Only a manager can start a section 47 enquiry."
    if kind == DecisionKind.share and alert.rule_id == RuleId.CONSENT_DECISION_REQUIRED:
        return "Only a manager can decide to share when consent was refused."
    return None


def identity_refused(user: User) -> str | None:
    if user.role != Role.manager:
        return "Only a manager can decide whether records are the same child."
    return None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: object, given: object) -> bool:
    """Constant-time comparison of the session's token with the form's."""
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


if __name__ == "__main__":  # pragma: no cover - a tool for whoever writes the users file
    import getpass

    print(hash_password(getpass.getpass("password: ")))
