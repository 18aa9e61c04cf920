"""The replay benchmark's synthetic council (bench/council.py) and its runner
(bench/replay.py): reproducible, valid against the contract, and real work for the
broker (a benchmark of a stream that raised nothing would measure nothing).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bench.council import Council
from bench.replay import Result, run, table, topic_group, years_for
from broker.models.events import EVENT_CLASSES
from broker.pipeline.ingest import Accepted, ingest_json

LONDON = ZoneInfo("Europe/London")
DELIBERATE = {"payload", "subject.nhs_number", "occurred_at"}
"""What the generator spoils on purpose: a line cut short, a check digit, a field."""
KEYING = "subject.date_of_birth"
"""A date of birth with one digit wrong can land in the future: rejected, as in life."""


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return list(Council(seed=11, events=3000).lines())


def test_the_same_seed_gives_the_same_stream() -> None:
    first = list(Council(seed=5, events=400).lines())
    assert first == list(Council(seed=5, events=400).lines())
    assert first != list(Council(seed=6, events=400).lines())
    assert len(first) == 400


def test_nearly_every_event_is_accepted_and_the_rest_for_known_reasons(
    lines: list[bytes],
) -> None:
    results = [ingest_json(line) for line in lines]
    refused = [r for r in results if not isinstance(r, Accepted)]
    assert len(refused) / len(lines) < 0.01
    for result in refused:
        fields = {p.field for p in result.problems}
        assert fields <= DELIBERATE | {KEYING}, fields


def test_events_come_in_recorded_order_on_london_time(lines: list[bytes]) -> None:
    accepted = [r.event for r in map(ingest_json, lines) if isinstance(r, Accepted)]
    first = {e.event_id: e for e in reversed(accepted)}  # a re-sent event keeps its time
    times = [e.recorded_at for e in accepted if first[e.event_id] is e]
    assert times == sorted(times)
    assert 0 < len(accepted) - len(first) < 0.01 * len(lines)  # a few re-sends
    offsets = {_recorded_at(line)[-6:] for line in lines[:2000]} - {""}
    assert offsets <= {"+00:00", "+01:00"}
    assert times[-1] - times[0] > (datetime(2026, 3, 1) - datetime(2025, 7, 1))  # a year


def _recorded_at(line: bytes) -> str:
    """The line's recorded_at as written, or "" for a line spoiled on purpose."""
    try:
        value = json.loads(line).get("recorded_at")
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


def test_the_mix_has_every_kind_of_event_and_most_identifiers(lines: list[bytes]) -> None:
    accepted = [r.event for r in map(ingest_json, lines) if isinstance(r, Accepted)]
    kinds = Counter(e.event_type for e in accepted)
    assert set(kinds) == set(EVENT_CLASSES) - {"mash.identity_decision"}
    assert kinds.most_common(1)[0][0] == "police.vist"
    with_id = [e for e in accepted if e.subject.nhs_number or e.subject.upn
               or e.subject.socialcare_id or e.subject.police_person_id]  # fmt: skip
    assert 0.6 < len(with_id) / len(accepted) < 0.97  # the matcher has both kinds of work
    children = {(e.subject.date_of_birth, e.subject.family_name.casefold()) for e in accepted}
    assert len(children) < len(accepted) / 2  # children come back


def test_a_small_run_raises_alerts_shares_and_audits() -> None:
    result = run(Council(seed=2, events=2000).lines())
    assert result.events == 2000
    topics = result.by_topic
    assert topics["mash.alert.v1"] > 100
    assert topics["notifications"] > 20
    assert topics["audit.disclosure.v1"] == topics["notifications"]
    assert topics["feedback"] > 0
    assert topics["broker.rejected.v1"] > 0
    assert {"UNSHARED_RISK", "DECISION_OVERDUE", "CUMULATIVE_CONCERNS"} <= set(result.alerts)
    assert result.state["pictures"] > 100
    assert result.seconds > 0
    assert result.json_bytes > 0


def test_the_table_and_the_helpers() -> None:
    result = Result(events=10, seconds=2.0, cpu_seconds=1.5, records=3, json_bytes=100,
                    by_topic={"mash.alert.v1": 3}, alerts={"UNSHARED_RISK": 3},
                    state={"pictures": 2})  # fmt: skip
    text = table([result])
    assert "events/s" in text
    assert "UNSHARED_RISK" in text
    assert result.events_per_second == 5.0
    assert topic_group("agency.school.notification.v1") == "notifications"
    assert topic_group("agency.yot.feedback.v1") == "feedback"
    assert topic_group("mash.alert.v1") == "mash.alert.v1"
    assert years_for(40_000) == 1.0
    assert years_for(1_000_000) == 5.0
