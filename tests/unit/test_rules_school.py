"""SCHOOL_FILE_NOT_TRANSFERRED (a timer) and ENCOMPASS_SCHOOL_UNKNOWN (at once), with the
Operation Encompass notification itself."""

from __future__ import annotations

import pytest

from broker.models import Agency
from tests.unit.test_rules_support import (
    MINUTE,
    NEW_SCHOOL,
    alerts,
    at,
    audits,
    feed,
    involvement,
    notifications,
    record,
    rule_ids,
    subject,
    transition,
    vist,
)

SEP1 = at("2026-09-01 10:00")
MOVE = at("2026-09-14 09:00")
DUE = at("2026-09-22 00:00")  # end of the fifth school day after Monday 14 September


def test_the_file_is_due_by_the_end_of_the_fifth_school_day() -> None:
    move = transition(MOVE)
    _, records = feed([record(SEP1, "child_protection_plan"), move], until=DUE)
    [alert] = alerts(records, "SCHOOL_FILE_NOT_TRANSFERRED")
    assert alert.severity == "high"
    assert alert.unshared_with == [Agency.school]
    assert alert.due_by == DUE
    assert alert.triggered_by == [move.event_id]
    assert NEW_SCHOOL["name"] in alert.summary
    # social care is told of the move of a child on a plan
    [note] = notifications(records, "socialcare")
    assert note.event_id == move.event_id


def test_not_before_the_deadline() -> None:
    _, records = feed([transition(MOVE)], until=DUE - MINUTE)
    assert alerts(records) == []


def test_a_recorded_transfer_stops_the_timer() -> None:
    done = transition(
        at("2026-09-16 12:00"), cp_file_transferred_at=at("2026-09-16 11:00").isoformat()
    )
    _, records = feed([transition(MOVE), done], until=at("2026-10-01 00:00"))
    assert alerts(records) == []


def test_a_transfer_recorded_after_the_deadline_is_too_late() -> None:
    late = transition(DUE + MINUTE, cp_file_transferred_at=(DUE + MINUTE).isoformat())
    _, records = feed([transition(MOVE), late], until=at("2026-10-01 00:00"))
    assert rule_ids(records) == ["SCHOOL_FILE_NOT_TRANSFERRED"]


def test_a_child_in_need_without_a_file_still_needs_one_transferred() -> None:
    move = transition(MOVE, cp_file_exists=False)
    _, records = feed([record(SEP1, "child_in_need"), move], until=DUE)
    assert rule_ids(records) == ["SCHOOL_FILE_NOT_TRANSFERRED"]


def test_no_file_and_not_known_to_social_care_needs_nothing() -> None:
    _, records = feed([transition(MOVE, cp_file_exists=False)], until=at("2026-10-30 00:00"))
    assert alerts(records) == []
    assert notifications(records) == []


def test_without_a_start_date_it_counts_from_the_leave_date() -> None:
    # left Friday 11 September: five school days are 14-18 September
    move = transition(at("2026-09-11 15:00"), start=None)
    _, records = feed([move], until=at("2026-09-19 00:00"))
    [alert] = alerts(records)
    assert alert.due_by == at("2026-09-19 00:00")


def test_a_bank_holiday_is_not_a_school_day() -> None:
    # start Friday 22 May 2026; Monday 25 May is a bank holiday: 26, 27, 28, 29 May, 1 June
    move = transition(at("2026-05-22 09:00"), leave="2026-05-21", start="2026-05-22")
    _, records = feed([move], until=at("2026-06-02 00:00"))
    [alert] = alerts(records)
    assert alert.due_by == at("2026-06-02 00:00")


def test_an_update_that_moves_the_start_date_moves_the_deadline() -> None:
    later = transition(at("2026-09-15 09:00"), start="2026-09-21")
    _, records = feed([transition(MOVE), later], until=DUE)
    assert alerts(records) == []
    _, records = feed([transition(MOVE), later], until=at("2026-09-29 00:00"))
    [alert] = alerts(records)
    assert alert.due_by == at("2026-09-29 00:00")


# -- Operation Encompass ------------------------------------------------------------------

TUE_NIGHT = at("2026-05-19 21:00")


def test_unknown_school_for_a_school_age_child() -> None:
    police = vist(TUE_NIGHT, "AMBER", ["domestic_abuse"], who=subject(date_of_birth="2018-03-03"))
    _, records = feed([police])
    [alert] = alerts(records, "ENCOMPASS_SCHOOL_UNKNOWN")
    assert alert.severity == "medium"
    assert alert.unshared_with == [Agency.school]
    assert alert.due_by == at("2026-05-20 08:30")
    assert alert.raised_at == TUE_NIGHT
    assert "aged 8" in alert.summary


def test_friday_evening_is_due_monday_morning() -> None:
    police = vist(at("2026-05-22 19:00"), "GREEN", ["domestic_abuse"])
    _, records = feed([police])
    [alert] = alerts(records, "ENCOMPASS_SCHOOL_UNKNOWN")
    assert alert.due_by == at("2026-05-26 08:30")  # Monday 25 May is a bank holiday


@pytest.mark.parametrize(
    ("born", "fires"),
    [
        ("2022-05-20", False),  # 3 (4 tomorrow)
        ("2022-05-19", True),  # 4 today
        ("2008-05-20", True),  # 17 (18 tomorrow)
        ("2008-05-19", False),  # 18 today
    ],
)
def test_school_age_is_four_to_seventeen_on_the_day_it_happened(born: str, fires: bool) -> None:
    police = vist(TUE_NIGHT, "GREEN", ["domestic_abuse"], who=subject(date_of_birth=born))
    _, records = feed([police])
    assert ("ENCOMPASS_SCHOOL_UNKNOWN" in rule_ids(records)) is fires


def test_a_known_school_is_told_at_once_and_minimised() -> None:
    police = vist(
        TUE_NIGHT,
        "AMBER",
        ["domestic_abuse"],
        narrative="Mother disclosed that the father assaulted her in front of the children.",
        who=subject(upn="A123456789012", nhs_number=None),
    )
    _, records = feed([involvement(at("2026-05-01 10:00")), police])
    assert "ENCOMPASS_SCHOOL_UNKNOWN" not in rule_ids(records)
    [note] = notifications(records, "school")
    assert note.event_id == police.event_id
    assert "narrative" not in note.fields
    assert "assaulted" not in note.model_dump_json()
    assert note.fields["recipient"] == {"urn": "113500", "name": "Stoke Damerel Primary"}
    assert note.child.identifiers == {"upn": "A123456789012"}
    assert note.due_by == at("2026-05-20 08:30")
    assert "support in school" in note.summary
    [audit] = audits(records)
    assert audit.decided_by == "rule:operation_encompass"
    assert "s.49A" in audit.lawful_basis
    assert "narrative" not in audit.fields
    assert "child.upn" in audit.fields


def test_a_school_move_gives_the_current_school() -> None:
    police = vist(at("2026-09-20 21:00"), "GREEN", ["domestic_abuse"])
    _, records = feed([transition(MOVE), police])
    [note] = notifications(records, "school")
    assert note.fields["recipient"] == NEW_SCHOOL
    assert "ENCOMPASS_SCHOOL_UNKNOWN" not in rule_ids(records)


def test_a_closed_school_involvement_is_no_current_school() -> None:
    closed = involvement(at("2026-05-02 10:00"), status="closed")
    police = vist(TUE_NIGHT, "GREEN", ["domestic_abuse"])
    _, records = feed([involvement(at("2026-05-01 10:00")), closed, police])
    assert notifications(records, "school") == []
    assert "ENCOMPASS_SCHOOL_UNKNOWN" in rule_ids(records)
