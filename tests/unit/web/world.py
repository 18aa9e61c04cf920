"""A small world for the page's tests: the demo's children run through the broker's own
engine (the same functions the worker runs), giving real alerts, pictures and
disclosures at a fixed instant; a fake publisher; users with cheap argon2 hashes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.config.partnership import load_config
from broker.models import AccessAudit, Alert, AuditDisclosure
from broker.picture.model import ChildPicture
from broker.pipeline.engine import Engine, replay_engine
from broker.settings import Settings
from broker.web.demo import demo_events
from broker.web.views import AlertSeen, DisclosureSeen, MashViews, PictureSeen

NOW = datetime(2026, 11, 25, 11, 20, tzinfo=UTC)  # a Wednesday, in working hours
CODEC = AvroCodec(Settings().schemas_dir)
CONFIG = load_config()
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORDS = {"sam": "practitioner-pw", "priya": "manager-pw", "ines": "auditor-pw"}


@dataclass
class World:
    alerts: list[Alert]
    disclosures: list[AuditDisclosure]
    pictures: dict[str, ChildPicture]
    engine: Engine

    def alert(self, rule: str, given_name: str) -> Alert:
        return next(
            a for a in self.alerts if a.rule_id == rule and a.child.given_name == given_name
        )

    def views(self) -> MashViews:
        views = MashViews()
        for alert in self.alerts:
            views.apply(AlertSeen(alert))
        for disclosure in self.disclosures:
            views.apply(DisclosureSeen(disclosure))
        for child_id, picture in self.pictures.items():
            views.apply(PictureSeen(child_id, picture))
        return views


def demo_world(now: datetime = NOW) -> World:
    engine = Engine(ManualClock())
    lines = [json.dumps(e).encode() for e in demo_events(now)]
    records = list(replay_engine(engine, lines, now))
    alerts = [r.value for r in records if isinstance(r.value, Alert)]
    disclosures = [r.value for r in records if isinstance(r.value, AuditDisclosure)]
    return World(alerts, disclosures, dict(engine.state.pictures), engine)


@dataclass
class FakePublisher:
    """The publisher port, keeping what was sent; `fail` makes it refuse like Kafka away."""

    sent: list[tuple[str, str, bytes]] = field(default_factory=list)
    fail: bool = False

    async def publish(self, topic: str, key: str, value: bytes) -> None:
        from broker.errors import InfrastructureError

        if self.fail:
            raise InfrastructureError("Kafka did not take the record (test)")
        self.sent.append((topic, key, value))

    def on(self, topic: str) -> list[Any]:
        return [CODEC.decode(v) for t, _, v in self.sent if t == topic]


def users_file(path: Path) -> Path:
    users = [
        {"username": "sam", "name": "Sam Reed", "role": "practitioner"},
        {"username": "priya", "name": "Priya Shah", "role": "manager"},
        {"username": "ines", "name": "Ines Ward", "role": "auditor"},
    ]
    for user in users:
        user["password_hash"] = CHEAP.hash(PASSWORDS[user["username"]])
    path.write_text(json.dumps({"users": users}))
    return path


def access_record(access_id: str = "a1", child_id: str = "c1") -> AccessAudit:
    """Sam's view of a child's record, as audit.access.v1 carries it."""
    return AccessAudit(
        access_id=access_id,
        user="sam",
        user_name="Sam Reed",
        role="practitioner",
        what="child",
        child_id=child_id,
        accessed_at=NOW,
    )


def late_record_world(now: datetime = NOW) -> World:
    """A child whose social care record reached the broker after an alert about her,
    though recorded long before it (as when agencies' topics are read at their own
    pace): Nia's school move raises SCHOOL_FILE_NOT_TRANSFERRED when the broker knows
    nothing else of her; then her child protection plan, recorded 40 days ago, arrives."""
    from datetime import timedelta

    def at(days: int) -> str:
        return (now - timedelta(days=days)).isoformat()

    nia = {
        "given_name": "Nia",
        "family_name": "Okafor",
        "date_of_birth": "2012-06-01",
        "postcode": "PL3 5TT",
        "socialcare_id": "SC-9901",
    }

    def event(event_id: str, event_type: str, agency: str, days: int, **body: Any) -> bytes:
        envelope = {
            "event_id": event_id,
            "event_type": event_type,
            "source": {"agency": agency, "system": f"{agency}-records"},
            "occurred_at": at(days),
            "recorded_at": at(days),
            "subject": nia,
        }
        return json.dumps({**envelope, **body}).encode()

    move = event(
        "late-sch-nia",
        "school.transition",
        "school",
        15,
        transition_id="T-nia",
        from_school={"urn": "113400", "name": "Ford Primary"},
        to_school={"urn": "113700", "name": "Stoke Damerel Community College"},
        leave_date=(now - timedelta(days=14)).date().isoformat(),
        start_date=(now - timedelta(days=12)).date().isoformat(),
        cp_file_exists=True,
    )
    record = event(
        "late-soc-nia",
        "socialcare.record",
        "socialcare",
        40,
        status="child_protection_plan",
        status_since=(now - timedelta(days=60)).date().isoformat(),
        allocated_worker={"name": "Jo Patel", "team": "Plymouth North CP"},
        previous_referrals=[],
    )
    engine = Engine(ManualClock())
    records = list(replay_engine(engine, [move], now - timedelta(days=1)))
    records += list(replay_engine(engine, [record], now))
    alerts = [r.value for r in records if isinstance(r.value, Alert)]
    disclosures = [r.value for r in records if isinstance(r.value, AuditDisclosure)]
    return World(alerts, disclosures, dict(engine.state.pictures), engine)
