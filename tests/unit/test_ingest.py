"""Ingest decides acceptance in one place, collects every problem, and never raises."""

from __future__ import annotations

import base64
import json
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from broker.pipeline import dedupe
from broker.pipeline.ingest import Accepted, Refused, ingest_json, validate
from broker.pipeline.rejection import failure_records, rejection_records
from broker.topics import REJECTED

NOW = datetime(2026, 5, 19, 12, tzinfo=UTC)

GOOD: dict[str, Any] = {
    "event_id": "pol-1",
    "event_type": "police.vist",
    "source": {"agency": "police", "system": "police-records"},
    "occurred_at": "2026-05-19T12:00:00+01:00",
    "recorded_at": "2026-05-19T12:00:00+01:00",
    "subject": {
        "given_name": "Tia",
        "family_name": "Lewis",
        "date_of_birth": "2011-02-14",
        "postcode": "PL1 8UU",
    },
    "vist_id": "V-1",
    "rag": "AMBER",
    "concerns": ["neglect"],
    "narrative": "Officers attended the address.",
    "out_of_hours": False,
}


def line(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_a_good_event_is_accepted() -> None:
    result = ingest_json(line(GOOD))
    assert isinstance(result, Accepted)
    assert result.event.event_id == "pol-1"


def test_not_json_is_refused_not_raised() -> None:
    result = ingest_json(b'{"event_id": "x", ')
    assert isinstance(result, Refused)
    assert [p.field for p in result.problems] == ["payload"]
    assert result.event_id is None


def test_json_that_is_not_an_object_is_refused() -> None:
    result = ingest_json(b"[1, 2, 3]")
    assert isinstance(result, Refused)
    assert result.problems[0].field == "payload"


def test_invalid_nhs_number_is_a_reason_and_the_sender_is_known() -> None:
    bad = deepcopy(GOOD)
    bad["subject"]["nhs_number"] = "9434765910"
    result = ingest_json(line(bad))
    assert isinstance(result, Refused)
    assert "subject.nhs_number" in {p.field for p in result.problems}
    assert (result.event_id, result.source_agency) == ("pol-1", "police")


def test_every_problem_is_collected_not_just_the_first() -> None:
    bad = deepcopy(GOOD)
    bad["subject"]["nhs_number"] = "123"
    bad["rag"] = "PURPLE"
    del bad["vist_id"]
    result = ingest_json(line(bad))
    assert isinstance(result, Refused)
    fields = {p.field for p in result.problems}
    assert {"subject.nhs_number", "rag", "vist_id"} <= fields


def test_unknown_event_type_is_refused_with_a_reason() -> None:
    bad = deepcopy(GOOD)
    bad["event_type"] = "police.teleport"
    result = ingest_json(line(bad))
    assert isinstance(result, Refused)
    assert any(p.field == "event_type" for p in result.problems)


def test_an_event_on_the_wrong_topic_is_refused() -> None:
    result = validate(GOOD, line(GOOD), "yot.referral.v1")
    assert isinstance(result, Refused)
    assert "police.vist.v1" in result.problems[0].message


def test_rejection_keeps_original_bytes_and_feeds_back_to_the_sender() -> None:
    bad = deepcopy(GOOD)
    bad["subject"]["nhs_number"] = "9434765910"
    raw = line(bad)
    result = ingest_json(raw)
    assert isinstance(result, Refused)
    records = rejection_records(result, NOW)
    assert [r.topic for r in records] == [REJECTED.name, "agency.police.feedback.v1"]
    rejected = records[0].value.model_dump(mode="json")
    assert base64.b64decode(rejected["original"]) == raw
    assert rejected["event_id"] == "pol-1"
    feedback = records[1].value.model_dump(mode="json")
    assert feedback["kind"] == "rejected"
    assert any(p["field"] == "subject.nhs_number" for p in feedback["problems"])
    # the same input gives the same ids (a re-delivery can be recognised)
    again = rejection_records(ingest_json(raw), NOW)  # type: ignore[arg-type]
    assert again[0].value == records[0].value


def test_unreadable_sender_still_gets_a_rejection_but_no_feedback() -> None:
    result = ingest_json(b"\xff\xfe not json")
    assert isinstance(result, Refused)
    records = rejection_records(result, NOW)
    assert [r.topic for r in records] == [REJECTED.name]


def test_a_broker_fault_is_kept_with_its_bytes() -> None:
    records = failure_records(b"abc", "police.vist.v1", NOW, "KeyError")
    value = records[0].value.model_dump(mode="json")
    assert base64.b64decode(value["original"]) == b"abc"
    assert "KeyError" in value["reasons"][0]["message"]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    result = ingest_json(raw)
    assert isinstance(result, Accepted | Refused)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_arbitrary_json_never_raises(data: Any) -> None:
    result = ingest_json(json.dumps(data).encode())
    assert isinstance(result, Accepted | Refused)


def test_dedupe_first_duplicate_and_conflict() -> None:
    result = ingest_json(line(GOOD))
    assert isinstance(result, Accepted)
    seen: dict[str, str] = {}
    assert dedupe.sighting(seen, result.event) is dedupe.Sighting.FIRST
    dedupe.mark_seen(seen, result.event, NOW)
    assert dedupe.sighting(seen, result.event) is dedupe.Sighting.DUPLICATE
    changed = deepcopy(GOOD)
    changed["rag"] = "RED"
    other = ingest_json(line(changed))
    assert isinstance(other, Accepted)
    assert dedupe.sighting(seen, other.event) is dedupe.Sighting.CONFLICT


def test_an_event_dated_years_ahead_of_the_wall_clock_is_refused_with_what_to_check() -> None:
    """Its deadlines would run from 2030: no alert would ever say one was missed."""
    ahead = {**GOOD, "recorded_at": "2030-07-17T12:00:00+01:00"}
    result = ingest_json(line(ahead), wall_now=NOW)
    assert isinstance(result, Refused)
    [problem] = result.problems
    assert problem.field == "recorded_at"
    assert "1520 days after the broker's clock" in problem.message
    assert "check the sending system's clock" in problem.message
    assert result.event_id == "pol-1"  # feedback goes back to the sender
    assert result.source_agency == "police"


def test_a_day_ahead_is_tolerated_a_day_and_an_hour_is_not() -> None:
    """A sender writing local time as UTC is an hour out: the MASH still sees its event."""
    hour_out = {**GOOD, "recorded_at": "2026-05-19T13:00:00+00:00"}
    assert isinstance(ingest_json(line(hour_out), wall_now=NOW), Accepted)
    day_and_hour = {**GOOD, "recorded_at": "2026-05-20T13:00:00+00:00"}
    result = ingest_json(line(day_and_hour), wall_now=NOW)
    assert isinstance(result, Refused)
    assert result.problems[0].message.startswith("is 25 hours after")


def test_without_a_wall_clock_an_event_is_never_ahead() -> None:
    """Replay's time is the events' own (events.md: the broker's clock in replay)."""
    ahead = {**GOOD, "recorded_at": "2030-07-17T12:00:00+01:00"}
    assert isinstance(ingest_json(line(ahead)), Accepted)
