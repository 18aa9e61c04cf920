"""`mash-broker demo`: valid events dated from now that give a realistic queue."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime

from broker.models import RuleId, Severity
from broker.models.identifiers import nhs_number_is_valid, upn_is_valid
from broker.pipeline.ingest import Accepted, ingest_json
from broker.web.demo import demo_events, nhs_number, print_demo, upn
from tests.unit.web.world import NOW, World


def test_every_demo_event_is_valid_and_carries_the_hour_in_its_id() -> None:
    events = demo_events(NOW)
    assert len({e["event_id"] for e in events}) == len(events)
    for event in events:
        assert isinstance(ingest_json(json.dumps(event).encode()), Accepted), event["event_id"]
        assert event["event_id"].startswith("demo-2026112511-")
    times = [datetime.fromisoformat(e["recorded_at"]) for e in events]
    assert times == sorted(times)
    assert max(times) <= NOW


def test_the_same_hour_gives_the_same_events() -> None:
    assert demo_events(NOW) == demo_events(NOW.replace(minute=59))
    assert demo_events(NOW) != demo_events(NOW.replace(hour=12))


def test_the_queue_is_realistic(world: World) -> None:
    rules = Counter(a.rule_id for a in world.alerts)
    assert len(rules) >= 10
    assert {RuleId.UNSHARED_RISK, RuleId.DECISION_OVERDUE, RuleId.IDENTITY_REVIEW} <= set(rules)
    assert {a.severity for a in world.alerts} == set(Severity)
    overdue = [a for a in world.alerts if a.due_by and a.due_by < NOW]
    running = [a for a in world.alerts if a.due_by and a.due_by >= NOW]
    assert len(overdue) >= 3
    assert len(running) >= 2


def test_identifiers_are_valid_and_printed_as_json_lines() -> None:
    assert nhs_number_is_valid(nhs_number("943476101"))
    assert upn_is_valid(upn("801200001234"))
    out = io.StringIO()
    assert print_demo(out, datetime(2026, 11, 25, 11, 0, tzinfo=UTC)) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == len(demo_events(NOW))
    assert json.loads(lines[0])["event_type"]
