"""The small pieces everything stands on: the clock, ids, topics, safe logs."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from broker.calendar.clock import ManualClock
from broker.errors import InvalidInput, Problem
from broker.models.ids import stable_id
from broker.ops.logs import JsonFormatter
from broker.topics import (
    EVENT_TYPE_BY_TOPIC,
    INBOUND,
    all_topics,
    feedback_topic,
    notification_topic,
)


def test_manual_clock_never_goes_backwards() -> None:
    start = datetime(2026, 5, 19, 10, tzinfo=UTC)
    clock = ManualClock(start)
    clock.advance_to(start + timedelta(hours=1))
    clock.advance_to(start)  # an event recorded earlier does not rewind time
    assert clock.now() == start + timedelta(hours=1)


def test_manual_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock().advance_to(datetime(2026, 5, 19, 10))


def test_stable_ids_are_deterministic_and_distinct() -> None:
    assert stable_id("a", "x", "y") == stable_id("a", "x", "y")
    assert stable_id("a", "x", "y") != stable_id("a", "xy")  # parts are separated
    assert stable_id("a", b"raw") == stable_id("a", "raw")


def test_every_event_type_has_one_inbound_topic_and_back() -> None:
    assert len({t.name for t in INBOUND.values()}) == len(INBOUND)
    for event_type, spec in INBOUND.items():
        assert EVENT_TYPE_BY_TOPIC[spec.name] == event_type
    names = [t.name for t in all_topics()]
    assert len(names) == len(set(names))
    assert "socialcare.record.v1" in {t.name for t in all_topics() if t.compacted}
    assert "agency.involvement.v1" in {t.name for t in all_topics() if t.compacted}


def test_agency_topics_only_for_agencies_of_the_contract() -> None:
    assert notification_topic("school") == "agency.school.notification.v1"
    assert feedback_topic("police") == "agency.police.feedback.v1"
    with pytest.raises(InvalidInput):
        feedback_topic("../etc")


def test_invalid_input_message_names_fields_never_values() -> None:
    exc = InvalidInput([Problem("subject.nhs_number", "is not a valid NHS number")])
    assert "subject.nhs_number" in str(exc)
    assert "9434765910" not in str(exc)


def test_log_lines_carry_only_allowlisted_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.safe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "event rejected",
            extra={"event_id": "pol-1", "given_name": "Tia", "narrative": "secret"},
        )
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["event_id"] == "pol-1"
    assert "Tia" not in stream.getvalue()
    assert "secret" not in stream.getvalue()
