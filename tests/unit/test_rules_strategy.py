"""STRATEGY_DISCUSSION_OVERDUE, STRATEGY_MEETING_INCOMPLETE and RELEVANT_AGENCY_OMITTED."""

from __future__ import annotations

from datetime import timedelta

import pytest

from broker.models import Agency
from tests.unit.test_rules_support import (
    MINUTE,
    alerts,
    at,
    decision,
    feed,
    health,
    info_request,
    involvement,
    meeting,
    record,
    rule_ids,
    vist,
    yot,
)

TUE = at("2026-05-19 10:00")
ALL_CORE = ("socialcare", "police", "health")


@pytest.mark.parametrize("kind", ["strategy_discussion", "section_47"])
def test_no_meeting_within_one_working_day(kind: str) -> None:
    police = vist(TUE, "RED", ["physical_abuse"])
    made = decision(at("2026-05-19 11:00"), police.event_id, kind)
    _, records = feed([police, made], until=at("2026-05-20 11:00"))
    [alert] = alerts(records, "STRATEGY_DISCUSSION_OVERDUE")
    assert alert.severity == "high"
    assert alert.due_by == at("2026-05-20 11:00")
    assert alert.triggered_by == [made.event_id, police.event_id]
    # the decision itself answered DECISION_OVERDUE
    assert "DECISION_OVERDUE" not in rule_ids(records)


def test_a_meeting_at_the_deadline_is_in_time() -> None:
    police = vist(TUE, "RED", ["physical_abuse"])
    made = decision(at("2026-05-19 11:00"), police.event_id, "strategy_discussion")
    held = meeting(at("2026-05-20 11:00"), ALL_CORE)
    _, records = feed([police, made, held], until=at("2026-05-30 11:00"))
    assert "STRATEGY_DISCUSSION_OVERDUE" not in rule_ids(records)


def test_a_meeting_held_in_time_but_recorded_a_minute_late_is_too_late() -> None:
    police = vist(TUE, "RED", ["physical_abuse"])
    made = decision(at("2026-05-19 11:00"), police.event_id, "strategy_discussion")
    held = meeting(at("2026-05-20 11:01"), ALL_CORE, held=at("2026-05-20 10:00"))
    _, records = feed([police, made, held])
    assert "STRATEGY_DISCUSSION_OVERDUE" in rule_ids(records)


def test_a_meeting_before_the_decision_does_not_answer_it() -> None:
    police = vist(TUE, "RED", ["physical_abuse"])
    earlier = meeting(at("2026-05-19 10:30"), ALL_CORE)
    made = decision(at("2026-05-19 11:00"), police.event_id, "strategy_discussion")
    _, records = feed([police, earlier, made], until=at("2026-05-20 11:00"))
    assert "STRATEGY_DISCUSSION_OVERDUE" in rule_ids(records)


def test_other_decisions_start_no_strategy_deadline() -> None:
    police = vist(TUE, "AMBER", ["neglect"])
    made = decision(at("2026-05-19 11:00"), police.event_id, "early_help")
    _, records = feed([police, made], until=at("2026-06-30 10:00"))
    assert alerts(records) == []


def test_a_complete_meeting_raises_nothing() -> None:
    _, records = feed([meeting(TUE, ALL_CORE)])
    assert alerts(records) == []


def test_a_meeting_without_health() -> None:
    held = meeting(TUE, ("socialcare", "police"))
    _, records = feed([held])
    [alert] = alerts(records, "STRATEGY_MEETING_INCOMPLETE")
    assert alert.severity == "medium"
    assert alert.unshared_with == [Agency.health]
    assert alert.triggered_by == [held.event_id]


def test_a_meeting_without_the_school_and_the_agencies_involved() -> None:
    events = [
        record(TUE - timedelta(days=3)),
        involvement(TUE - timedelta(days=2)),
        involvement(TUE - timedelta(days=2), "camhs"),
        meeting(TUE, (*ALL_CORE, "camhs")),
        meeting(TUE + timedelta(hours=1), ALL_CORE),
    ]
    _, records = feed(events)
    fired = alerts(records, "STRATEGY_MEETING_INCOMPLETE")
    assert [a.unshared_with for a in fired] == [
        [Agency.school],
        [Agency.school, Agency.camhs],
    ]
    assert "Stoke Damerel Primary" in fired[0].summary


# -- RELEVANT_AGENCY_OMITTED --------------------------------------------------------------


def test_an_info_request_that_leaves_out_an_agency_involved() -> None:
    events = [record(TUE), involvement(TUE), info_request(TUE + MINUTE, ["socialcare"])]
    _, records = feed(events)
    [alert] = alerts(records, "RELEVANT_AGENCY_OMITTED")
    assert alert.severity == "medium"
    assert alert.unshared_with == [Agency.school]
    assert alert.triggered_by == [events[2].event_id]


def test_past_concerns_make_their_services_relevant() -> None:
    events = [
        health(TUE - timedelta(days=300), "gp_concern", ["substance_misuse"]),
        vist(TUE - timedelta(days=200), "GREEN", ["domestic_abuse"]),
        yot(TUE - timedelta(days=100), ["offending"]),
        health(TUE - timedelta(days=10), "mh_crisis", ["self_harm"]),
        info_request(TUE, ["socialcare"]),
    ]
    _, records = feed(events)
    [alert] = alerts(records, "RELEVANT_AGENCY_OMITTED")
    assert alert.unshared_with == [Agency.police, Agency.yot, Agency.camhs, Agency.substance_misuse]
    assert alert.triggered_by[0] == events[4].event_id
    assert set(alert.triggered_by[1:]) == {e.event_id for e in events[:4]}
    assert "substance misuse service" in alert.summary


def test_concerns_older_than_a_year_do_not_count() -> None:
    events = [
        health(TUE - timedelta(days=366), "gp_concern", ["substance_misuse"]),
        info_request(TUE, ["socialcare"]),
    ]
    _, records = feed(events)
    assert "RELEVANT_AGENCY_OMITTED" not in rule_ids(records)


def test_an_info_request_to_everyone_relevant_raises_nothing() -> None:
    events = [
        involvement(TUE),
        vist(TUE, "GREEN", ["domestic_abuse"]),
        info_request(TUE + MINUTE, ["school", "police"]),
    ]
    _, records = feed(events)
    assert "RELEVANT_AGENCY_OMITTED" not in rule_ids(records)
