"""DECISION_OVERDUE: a timer per event needing a MASH decision; fires only if none came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.models import Agency
from broker.rules import fire_due
from tests.unit.test_rules_support import (
    CONFIG,
    MINUTE,
    alerts,
    at,
    decision,
    feed,
    health,
    involvement,
    record,
    rule_ids,
    vist,
    yot,
)

MON = at("2026-05-18 10:00")
TUE = at("2026-05-19 10:00")


def test_red_on_a_friday_at_four_is_due_monday_at_noon() -> None:
    police = vist(at("2026-05-15 16:00"), "RED", ["domestic_abuse"])
    _, records = feed([police], until=at("2026-05-18 12:00"))
    [alert] = alerts(records, "DECISION_OVERDUE")
    assert alert.due_by == at("2026-05-18 12:00")
    assert alert.raised_at == at("2026-05-18 12:00")
    assert alert.severity == "high"
    assert alert.triggered_by == [police.event_id]


def test_not_yet_due_one_minute_before() -> None:
    police = vist(at("2026-05-15 16:00"), "RED", ["domestic_abuse"])
    _, records = feed([police], until=at("2026-05-18 11:59"))
    assert alerts(records, "DECISION_OVERDUE") == []


def test_red_on_a_tuesday_evening_is_due_wednesday_at_one() -> None:
    police = vist(at("2026-05-19 20:00"), "RED", ["neglect"])
    _, records = feed([police], until=at("2026-05-21 00:00"))
    [alert] = alerts(records, "DECISION_OVERDUE")
    assert alert.due_by == at("2026-05-20 13:00")


def test_a_decision_exactly_at_the_deadline_is_in_time() -> None:
    police = vist(at("2026-05-15 16:00"), "RED", ["domestic_abuse"])
    made = decision(at("2026-05-18 12:00"), police.event_id)
    _, records = feed([police, made], until=at("2026-05-20 12:00"))
    assert alerts(records, "DECISION_OVERDUE") == []


def test_a_decision_one_minute_late_does_not_stop_the_alert() -> None:
    police = vist(at("2026-05-15 16:00"), "RED", ["domestic_abuse"])
    made = decision(at("2026-05-18 12:00") + MINUTE, police.event_id)
    _, records = feed([police, made], until=at("2026-05-20 12:00"))
    [alert] = alerts(records, "DECISION_OVERDUE")
    assert alert.raised_at == at("2026-05-18 12:00")


def test_a_decision_on_the_alert_counts_as_a_decision_on_the_event() -> None:
    police = vist(TUE, "GREEN", ["emotional_abuse"])
    picture, records = feed([record(MON), involvement(MON), police])
    [unshared] = alerts(records, "UNSHARED_RISK")
    made = decision(at("2026-05-19 15:00"), unshared.alert_id, "share", ["school"])
    _, later = feed([made], until=at("2026-05-22 10:00"), picture=picture)
    assert alerts(later, "DECISION_OVERDUE") == []


def test_a_decision_on_another_event_does_not_count() -> None:
    police = vist(TUE, "AMBER", ["neglect"])
    made = decision(at("2026-05-19 11:00"), "some-other-event")
    _, records = feed([police, made], until=at("2026-05-21 10:00"))
    assert rule_ids(records).count("DECISION_OVERDUE") == 1


def test_green_about_a_child_nobody_works_with_needs_no_decision() -> None:
    _, records = feed([vist(TUE, "GREEN", ["neglect"])], until=at("2026-06-30 10:00"))
    assert alerts(records, "DECISION_OVERDUE") == []


def test_green_about_a_child_an_agency_works_with_needs_one() -> None:
    _, records = feed(
        [involvement(MON, "yot"), vist(TUE, "GREEN", ["knife_crime"])],
        until=at("2026-05-20 10:00"),
    )
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.severity == "medium"
    assert overdue.due_by == at("2026-05-20 10:00")
    assert overdue.unshared_with == [Agency.yot]


def test_amber_needs_a_decision_within_one_working_day() -> None:
    _, records = feed([vist(TUE, "AMBER", ["neglect"])], until=at("2026-05-20 10:00"))
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.severity == "medium"
    assert overdue.unshared_with == []


def test_a_health_update_that_is_not_significant_harm_needs_no_decision_alone() -> None:
    _, records = feed([health(TUE, "gp_concern", ["neglect"])], until=at("2026-06-30 10:00"))
    assert alerts(records) == []


def test_a_significant_harm_referral_needs_one_in_four_working_hours() -> None:
    referral = yot(TUE, ["child_criminal_exploitation"], risk_level="high")
    _, records = feed([referral], until=at("2026-05-19 14:00"))
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.severity == "high"
    assert overdue.due_by == at("2026-05-19 14:00")


def test_a_bank_holiday_inside_the_deadline_is_skipped() -> None:
    # Monday 25 May 2026 is the spring bank holiday
    police = vist(at("2026-05-22 10:00"), "AMBER", ["neglect"])
    _, records = feed([police], until=at("2026-05-26 10:00"))
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.due_by == at("2026-05-26 10:00")


def test_the_clock_change_weekend_keeps_wall_clock_deadlines() -> None:
    # British Summer Time starts on Sunday 29 March 2026
    police = vist(datetime(2026, 3, 27, 16, 0, tzinfo=UTC), "RED", ["neglect"])
    _, records = feed([police], until=at("2026-03-31 00:00"))
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.due_by == datetime(2026, 3, 30, 11, 0, tzinfo=UTC)  # 12:00 BST


def test_it_fires_once_and_a_late_decision_changes_nothing() -> None:
    police = vist(TUE, "AMBER", ["neglect"])
    picture, records = feed([police], until=at("2026-05-21 10:00"))
    assert picture is not None
    again = fire_due(picture, before=at("2026-06-30 10:00"), inclusive=True, config=CONFIG)
    assert again.outputs == []
    _, later = feed([decision(at("2026-05-22 10:00"), police.event_id)], picture=picture)
    assert alerts(later) == []
    assert rule_ids(records).count("DECISION_OVERDUE") == 1


@pytest.mark.parametrize(
    ("recorded", "due"),
    [
        ("2026-05-19 10:00", "2026-05-20 10:00"),  # Tuesday -> Wednesday
        ("2026-05-15 01:00", "2026-05-18 01:00"),  # Friday night -> Monday, same clock time
        ("2026-05-16 14:00", "2026-05-19 09:00"),  # Saturday -> Monday 09:00 -> Tuesday
    ],
)
def test_one_working_day(recorded: str, due: str) -> None:
    _, records = feed([vist(at(recorded), "AMBER", ["neglect"])], until=at("2026-06-01 00:00"))
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.due_by == at(due)


@settings(max_examples=60, deadline=None)
@given(
    recorded=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20), timezones=st.just(UTC)
    ),
    rag=st.sampled_from(["RED", "AMBER"]),
    late_by=st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60),
)
def test_a_deadline_met_in_time_never_fires(recorded: datetime, rag: str, late_by: int) -> None:
    recorded = recorded.replace(second=0, microsecond=0)
    police = vist(recorded, rag, ["neglect"])
    if rag == "RED":
        due = CONFIG.calendar.add_working_hours(recorded, 4)
    else:
        due = CONFIG.calendar.add_working_days(recorded, 1)
    decided = max(recorded, due + timedelta(minutes=late_by))
    made = decision(decided, police.event_id)
    _, records = feed([police, made], until=decided + timedelta(days=10))
    fired = alerts(records, "DECISION_OVERDUE")
    assert len(fired) == (1 if decided > due else 0)
    if fired:
        assert fired[0].due_by == due


def test_a_decision_that_arrives_before_its_event_still_counts() -> None:
    police = vist(TUE, "AMBER", ["neglect"])
    early = decision(TUE - MINUTE, police.event_id, "no_further_action")
    _, records = feed([early, police], until=at("2026-05-30 10:00"))
    assert alerts(records, "DECISION_OVERDUE") == []
