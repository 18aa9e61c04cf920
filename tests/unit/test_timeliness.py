"""The timeliness report over a month of known timings (tests/data/timeliness_may_2026.jsonl).

Each figure below is worked out by hand from the file, with the calendar's rules: the
early May bank holiday (Monday 4 May 2026) and the spring one (Monday 25 May) are not
working days; the file's clocks are BST (+01:00).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from broker.cli.main import main
from broker.cli.report import replay_report
from broker.oversight.timeliness import TimelinessReport

FILE = Path(__file__).parents[1] / "data" / "timeliness_may_2026.jsonl"
MAY = datetime.fromisoformat("2026-05-01T00:00:00+01:00")
JUNE = datetime.fromisoformat("2026-06-01T00:00:00+01:00")
JULY = datetime.fromisoformat("2026-07-01T00:00:00+01:00")
AS_OF = datetime.fromisoformat("2026-06-30T00:00:00+01:00")


@pytest.fixture(scope="module")
def report() -> TimelinessReport:
    return replay_report(FILE, MAY, JULY, AS_OF)


def figures(report: TimelinessReport, month: str, agency: str, measure: str) -> tuple:
    row = report.row(month, agency, measure)
    assert row is not None, (month, agency, measure)
    return (row.total, row.in_time, row.late, row.pending, row.percent_in_time, row.median_hours)


def test_every_row_of_the_report_is_one_of_those_worked_out_by_hand(
    report: TimelinessReport,
) -> None:
    assert [(r.month, r.agency, r.measure) for r in report.rows] == [
        ("2026-05", "police", "contacts"),
        ("2026-05", "yot", "contacts"),
        ("2026-06", "police", "contacts"),
        ("2026-05", "police", "decision_urgent"),
        ("2026-05", "police", "decision_day"),
        ("2026-05", "police", "strategy_meeting"),
        ("2026-05", "school", "school_file"),
        ("2026-05", "police", "encompass"),
        ("2026-05", "police", "unshared_risk"),
        ("2026-05", "yot", "referral_complete"),
        ("2026-05", "mash", "info_request_complete"),
    ]


def test_contacts_received_per_month_and_agency(report: TimelinessReport) -> None:
    # five police notices and two YOT referrals in May, one notice in June; the school
    # move (two events) is not a contact, nor are decisions, meetings or records
    assert figures(report, "2026-05", "police", "contacts") == (5, 0, 0, 0, None, None)
    assert figures(report, "2026-05", "yot", "contacts") == (2, 0, 0, 0, None, None)
    assert figures(report, "2026-06", "police", "contacts") == (1, 0, 0, 0, None, None)


def test_a_red_notice_decided_within_four_working_hours_over_the_bank_holiday(
    report: TimelinessReport,
) -> None:
    # RED, Friday 1 May 16:00: one hour on Friday, Monday 4 May a bank holiday, three
    # hours on Tuesday: due Tuesday 12:00; decided Tuesday 11:30, 91.5 hours later
    assert figures(report, "2026-05", "police", "decision_urgent") == (1, 1, 0, 0, 100.0, 91.5)


def test_decisions_within_one_working_day(report: TimelinessReport) -> None:
    # Ben's AMBER of Wed 6 May 10:00: no decision, overdue at Thu 10:00 (late);
    # Ben's AMBER of Wed 13 May 10:00: decided 15:00, 5 hours (in time);
    # Dan's AMBER of Thu 14 May 14:00: shared Fri 09:00, 19 hours (in time);
    # Ava's GREEN of Thu 21 May 21:00: due Fri 21:00, decided Tue 26 09:00 after the
    # spring bank holiday, 108 hours (late). Median of 5, 19, 108: 19.
    assert figures(report, "2026-05", "police", "decision_day") == (4, 2, 2, 0, 50.0, 19.0)


def test_the_strategy_meeting_held_the_day_after_the_decision(report: TimelinessReport) -> None:
    # decided Tue 5 May 11:30, due Wed 11:30, held Wed 10:00: 22.5 hours
    assert figures(report, "2026-05", "police", "strategy_meeting") == (1, 1, 0, 0, 100.0, 22.5)


def test_the_school_file_transferred_after_five_school_days(report: TimelinessReport) -> None:
    # started Mon 11 May: the fifth school day after is Mon 18 May, due 19 May 00:00;
    # transferred 20 May 10:00, 286 hours after the move was first heard of (8 May 12:00)
    assert figures(report, "2026-05", "school", "school_file") == (1, 0, 1, 0, 0.0, 286.0)


def test_encompass_told_at_once_or_school_unknown(report: TimelinessReport) -> None:
    # Ava's school told at 21:00 (in time for 08:30 Friday, 0 hours); Ben's school not
    # known (ENCOMPASS_SCHOOL_UNKNOWN): not told
    assert figures(report, "2026-05", "police", "encompass") == (2, 1, 1, 0, 50.0, 0.0)


def test_unshared_risk_shared_by_the_share_decision(report: TimelinessReport) -> None:
    # raised Thu 14 May 14:00, due Fri 14:00, CAMHS told Fri 09:00: 19 hours
    assert figures(report, "2026-05", "police", "unshared_risk") == (1, 1, 0, 0, 100.0, 19.0)


def test_referrals_returned_as_incomplete(report: TimelinessReport) -> None:
    assert figures(report, "2026-05", "yot", "referral_complete") == (2, 1, 1, 0, 50.0, None)


def test_an_information_request_that_left_out_camhs(report: TimelinessReport) -> None:
    assert figures(report, "2026-05", "mash", "info_request_complete") == (1, 0, 1, 0, 0.0, None)


def test_the_window_leaves_out_what_started_outside_it() -> None:
    june = replay_report(FILE, JUNE, JULY, AS_OF)
    assert [(r.month, r.agency, r.measure, r.total) for r in june.rows] == [
        ("2026-06", "police", "contacts", 1)
    ]


def test_undone_with_time_left_is_pending_and_overdue_once_the_deadline_passed() -> None:
    # as at Wed 6 May 12:00, Ben's notice (due Thu 10:00) is pending; Ava's RED notice
    # is decided in time
    early = datetime.fromisoformat("2026-05-06T12:00:00+01:00")
    report = replay_report(FILE, MAY, JULY, early)
    assert figures(report, "2026-05", "police", "decision_day") == (1, 0, 0, 1, None, None)
    later = replay_report(FILE, MAY, JULY, datetime.fromisoformat("2026-05-07T10:00:00+01:00"))
    assert figures(later, "2026-05", "police", "decision_day") == (1, 0, 1, 0, 0.0, None)


def test_the_command_prints_the_same_figures_as_csv(
    report: TimelinessReport, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "report",
            "timeliness",
            str(FILE),
            "--from",
            MAY.isoformat(),
            "--to",
            JULY.isoformat(),
            "--until",
            AS_OF.isoformat(),
            "--csv",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(report.rows)
    decided = next(r for r in rows if r["measure"] == "decision_day")
    assert decided == {
        "month": "2026-05",
        "agency": "police",
        "measure": "decision_day",
        "total": "4",
        "in_time": "2",
        "late": "2",
        "pending": "0",
        "percent_in_time": "50.0",
        "median_hours": "19.0",
    }
    assert report.to_csv().splitlines()[0] == (
        "month,agency,measure,total,in_time,late,pending,percent_in_time,median_hours"
    )


def test_the_command_prints_a_table_by_measure(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["report", "timeliness", str(FILE), "--from", MAY.isoformat(), "--to", JULY.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "MASH decisions within 4 working hours (RED or significant harm)" in out
    assert "2026-05  police                 4       2     2     0   50.0" in out


def test_the_command_needs_a_file_or_live(capsys: pytest.CaptureFixture[str]) -> None:
    window = ["--from", MAY.isoformat(), "--to", JULY.isoformat()]
    neither = ["report", "timeliness", *window]
    both = ["report", "timeliness", str(FILE), "--live", *window]
    for args in (neither, both):
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert exited.value.code == 2
    assert "--live" in capsys.readouterr().err
