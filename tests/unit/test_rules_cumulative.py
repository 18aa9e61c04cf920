"""CUMULATIVE_CONCERNS, CUMULATIVE_NEGLECT and REPEAT_MISSING: counts in trailing windows."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.test_rules_support import alerts, at, feed, health, rule_ids, vist, yot

START = at("2026-01-12 10:00")


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_the_third_risk_event_in_a_year_fires_then_the_sixth() -> None:
    events = [health(START + days(7 * i), "gp_concern", ["emotional_abuse"]) for i in range(7)]
    _, records = feed(events)
    fired = alerts(records, "CUMULATIVE_CONCERNS")
    assert [a.triggered_by[0] for a in fired] == [events[2].event_id, events[5].event_id]
    assert fired[0].severity == "medium"
    assert set(fired[0].triggered_by) == {e.event_id for e in events[:3]}
    assert len(fired[1].triggered_by) == 6


def test_two_risk_events_are_not_enough() -> None:
    _, records = feed([vist(START), vist(START + days(30))])
    assert "CUMULATIVE_CONCERNS" not in rule_ids(records)


def test_events_older_than_365_days_drop_out() -> None:
    events = [
        vist(START, concerns=["online_harm"]),
        vist(START + days(200), concerns=["online_harm"]),
        vist(START + days(366), concerns=["online_harm"]),
    ]
    _, records = feed(events)
    assert "CUMULATIVE_CONCERNS" not in rule_ids(records)


def test_the_window_includes_an_event_exactly_365_days_before() -> None:
    events = [
        vist(START, concerns=["online_harm"]),
        vist(START + days(200), concerns=["online_harm"]),
        vist(START + days(365), concerns=["online_harm"]),
    ]
    _, records = feed(events)
    assert "CUMULATIVE_CONCERNS" in rule_ids(records)


def test_windows_are_measured_on_occurred_at() -> None:
    # recorded together today, but two of them happened more than a year ago
    today = at("2026-05-19 10:00")
    events = [
        vist(today, occurred=today - days(400), concerns=["online_harm"]),
        vist(today, occurred=today - days(380), concerns=["online_harm"]),
        vist(today, concerns=["online_harm"]),
    ]
    _, records = feed(events)
    assert "CUMULATIVE_CONCERNS" not in rule_ids(records)


def test_neglect_fires_on_the_second_then_the_fourth() -> None:
    events = [
        health(START, "school_nurse_assessment", ["neglect"]),
        vist(START + days(50), concerns=["neglect"]),
        yot(START + days(60), ["neglect", "offending"]),
        vist(START + days(70), concerns=["neglect"]),
    ]
    _, records = feed(events)
    fired = alerts(records, "CUMULATIVE_NEGLECT")
    assert [a.triggered_by[0] for a in fired] == [events[1].event_id, events[3].event_id]
    assert fired[0].severity == "high"
    assert fired[0].triggered_by == [events[1].event_id, events[0].event_id]


def test_a_single_neglect_concern_is_not_cumulative() -> None:
    _, records = feed([vist(START, concerns=["neglect"]), vist(START, concerns=["missing"])])
    assert "CUMULATIVE_NEGLECT" not in rule_ids(records)


def test_three_missing_episodes_in_ninety_days() -> None:
    events = [vist(START + days(30 * i), concerns=["missing"]) for i in range(3)]
    _, records = feed(events)
    [alert] = alerts(records, "REPEAT_MISSING")
    assert alert.severity == "high"
    assert alert.triggered_by[0] == events[2].event_id
    assert "missing 3 times" in alert.summary


def test_three_missing_episodes_spread_over_more_than_ninety_days() -> None:
    events = [vist(START + days(46 * i), concerns=["missing"]) for i in range(3)]
    _, records = feed(events)
    assert "REPEAT_MISSING" not in rule_ids(records)


def test_missing_episodes_also_count_towards_cumulative_concerns() -> None:
    events = [vist(START + days(10 * i), concerns=["missing"]) for i in range(3)]
    _, records = feed(events)
    assert sorted(rule_ids(records)) == ["CUMULATIVE_CONCERNS", "REPEAT_MISSING"]


def test_the_same_evidence_gives_the_same_alert_id() -> None:
    events = [vist(START + days(i), concerns=["neglect"]) for i in range(2)]
    _, first = feed(events)
    _, second = feed(events)
    assert [a.alert_id for a in alerts(first)] == [a.alert_id for a in alerts(second)]
