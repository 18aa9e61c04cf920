"""The deadline calendar: rules.md's worked examples, England's real bank holidays,
clock changes, school terms, and properties over arbitrary instants."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.calendar.worktime import WorkCalendar, age_on, england_bank_holidays
from broker.errors import ConfigurationError

LONDON = ZoneInfo("Europe/London")
EXAMPLES = Path("/work/shared/spec/examples")
CAL = WorkCalendar()


def at(text: str) -> datetime:
    """An ISO timestamp; a naive one is London wall time."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=LONDON)


def assert_local(result: datetime, expected: str) -> None:
    """Same instant, expressed in London time (so the offset is London's too)."""
    assert result.tzinfo is LONDON
    assert result == at(expected)
    assert result.utcoffset() == at(expected).astimezone(LONDON).utcoffset()


# -- England's bank holidays, pinned ----------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # New Year's Day
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # early May
        date(2026, 5, 25),  # spring
        date(2026, 8, 31),  # summer
        date(2026, 12, 25),  # Christmas Day
        date(2026, 12, 28),  # Boxing Day, substitute (26th is a Saturday)
        date(2027, 12, 27),  # Christmas substitute
        date(2027, 12, 28),  # Boxing Day substitute
        date(2022, 9, 19),  # a one-off: the state funeral
    ],
)
def test_england_bank_holidays_are_not_working_days(day: date) -> None:
    assert day in england_bank_holidays(1990, 2100)
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 2),  # Scotland only
        date(2026, 3, 17),  # St Patrick's Day: Northern Ireland only
        date(2026, 7, 13),  # Battle of the Boyne (observed): Northern Ireland only
        date(2026, 12, 29),
        date(2026, 5, 26),
    ],
)
def test_other_nations_holidays_are_working_days_in_england(day: date) -> None:
    assert CAL.is_working_day(day)


def test_weekends_are_not_working_days() -> None:
    assert not CAL.is_working_day(date(2026, 5, 23))
    assert not CAL.is_working_day(date(2026, 5, 24))
    assert CAL.is_working_day(date(2026, 5, 22))


def test_a_datetime_is_not_taken_for_a_date() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(datetime(2026, 12, 25, tzinfo=UTC))


def test_a_year_without_holiday_data_is_refused() -> None:
    with pytest.raises(ValueError, match="2101"):
        CAL.is_working_day(date(2101, 1, 3))


# -- working hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # rules.md's examples
        ("2026-05-15T16:00", 4, "2026-05-18T12:00"),  # Friday 16:00 -> Monday 12:00
        ("2026-05-19T20:00", 4, "2026-05-20T13:00"),  # Tuesday 20:00 -> Wednesday 13:00
        # boundaries
        ("2026-05-19T17:00", 1, "2026-05-20T10:00"),  # at 17:00: nothing left today
        ("2026-05-19T16:59", 1, "2026-05-20T09:59"),
        ("2026-05-19T08:00", 1, "2026-05-19T10:00"),  # before 09:00: starts at 09:00
        ("2026-05-19T00:00", 8, "2026-05-19T17:00"),
        ("2026-05-19T13:00", 4, "2026-05-19T17:00"),  # lands on 17:00: stays 17:00
        ("2026-05-19T13:00", 5, "2026-05-20T10:00"),
        ("2026-05-19T09:00", 16, "2026-05-20T17:00"),
        ("2026-05-19T10:15:30.5", 1, "2026-05-19T11:15:30.5"),
        ("2026-05-16T11:00", 2, "2026-05-18T11:00"),  # Saturday
        # bank holidays
        ("2026-05-22T16:00", 4, "2026-05-26T12:00"),  # Friday before spring bank holiday
        ("2026-05-25T11:00", 4, "2026-05-26T13:00"),  # on the bank holiday itself
        ("2026-04-02T15:00", 4, "2026-04-07T11:00"),  # Thursday before Easter
        ("2026-12-24T15:00", 4, "2026-12-29T11:00"),  # Christmas, Boxing Day substitute
        ("2026-12-31T16:00", 4, "2027-01-04T12:00"),  # New Year's Day on a Friday
        # clock changes: wall-clock hours on both sides
        ("2026-03-27T16:00+00:00", 4, "2026-03-30T12:00+01:00"),
        ("2026-10-23T16:00+01:00", 4, "2026-10-26T12:00+00:00"),
        ("2026-03-27T12:00+00:00", 8, "2026-03-30T12:00+01:00"),
    ],
)
def test_add_working_hours(start: str, hours: int, expected: str) -> None:
    assert_local(CAL.add_working_hours(at(start), hours), expected)


def test_add_working_hours_takes_any_offset_and_answers_in_london() -> None:
    # 19:00Z on Tuesday 19 May is 20:00 BST: due Wednesday 13:00 BST (12:00Z).
    result = CAL.add_working_hours(datetime(2026, 5, 19, 19, tzinfo=UTC), 4)
    assert_local(result, "2026-05-20T13:00+01:00")
    new_york = timezone(timedelta(hours=-4))
    assert_local(
        CAL.add_working_hours(datetime(2026, 5, 19, 15, tzinfo=new_york), 4),
        "2026-05-20T13:00+01:00",
    )


def test_adding_no_working_hours_changes_nothing() -> None:
    t = at("2026-05-16T11:00")
    assert CAL.add_working_hours(t, 0) == t


@pytest.mark.parametrize("bad", [-1, -4])
def test_negative_hours_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_hours(at("2026-05-19T10:00"), bad)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_hours(datetime(2026, 5, 19, 10), 4)
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_days(datetime(2026, 5, 19, 10), 1)
    with pytest.raises(ValueError, match="aware"):
        CAL.next_school_day_0830(datetime(2026, 5, 19, 10))


# -- working days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # rules.md's examples
        ("2026-05-19T10:00", 1, "2026-05-20T10:00"),  # Tuesday -> Wednesday
        ("2026-05-15T01:00", 1, "2026-05-18T01:00"),  # Friday 01:00 -> Monday 01:00
        ("2026-05-15T20:00", 1, "2026-05-18T20:00"),  # outside hours keeps its clock time
        # a non-working day first moves to 09:00 on the next working day
        ("2026-05-16T14:00", 1, "2026-05-19T09:00"),  # Saturday -> Mon 09:00 -> Tuesday
        ("2026-05-16T14:00", 0, "2026-05-18T09:00"),
        ("2026-05-25T11:00", 1, "2026-05-27T09:00"),  # spring bank holiday
        # bank holidays inside the window
        ("2026-05-22T10:00", 1, "2026-05-26T10:00"),  # Friday -> Tuesday
        ("2026-05-22T10:00", 5, "2026-06-01T10:00"),
        ("2026-04-02T10:00", 1, "2026-04-07T10:00"),  # Easter 2026: 3 and 6 April
        ("2026-12-24T10:00", 1, "2026-12-29T10:00"),
        ("2026-12-31T10:00", 1, "2027-01-04T10:00"),
        ("2026-12-23T10:00", 5, "2027-01-04T10:00"),
        # clock changes: same wall-clock time after the change
        ("2026-03-27T10:00+00:00", 1, "2026-03-30T10:00+01:00"),
        ("2026-10-23T10:00+01:00", 1, "2026-10-26T10:00+00:00"),
        ("2026-03-28T10:00+00:00", 1, "2026-03-31T09:00+01:00"),  # Saturday before it
    ],
)
def test_add_working_days(start: str, days: int, expected: str) -> None:
    assert_local(CAL.add_working_days(at(start), days), expected)


def test_a_utc_instant_on_a_london_working_day_counts_from_london_time() -> None:
    # 23:30Z on a Sunday in summer is already Monday 00:30 in London: a working day,
    # so the clock time is kept rather than moved to 09:00.
    assert_local(
        CAL.add_working_days(datetime(2026, 5, 17, 23, 30, tzinfo=UTC), 1),
        "2026-05-19T00:30+01:00",
    )


def test_no_working_days_on_a_working_day_changes_nothing() -> None:
    t = at("2026-05-19T10:00")
    assert CAL.add_working_days(t, 0) == t


# -- school days ------------------------------------------------------------------------


def test_the_school_file_example() -> None:
    scenario = json.loads((EXAMPLES / "school_file_late.json").read_text())
    transition = next(e for e in scenario["events"] if e["event_type"] == "school.transition")
    deadline = CAL.end_of_nth_school_day_after(date.fromisoformat(transition["start_date"]))
    assert_local(deadline, "2026-09-22T00:00+01:00")
    # The scenario runs to 09:00 that morning, after the deadline: the alert is due.
    assert deadline <= at(scenario["until"])


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-09-14", 5, "2026-09-22T00:00+01:00"),
        ("2026-09-12", 5, "2026-09-19T00:00+01:00"),  # from a Saturday: Mon-Fri count
        ("2026-09-14", 1, "2026-09-16T00:00+01:00"),
        ("2026-05-20", 5, "2026-05-29T00:00+01:00"),  # spring bank holiday skipped
        ("2026-10-21", 5, "2026-10-29T00:00+00:00"),  # across the clock change
        ("2026-12-21", 5, "2026-12-31T00:00+00:00"),  # 25 and 28 Dec skipped
        ("2026-12-21", 7, "2027-01-05T00:00+00:00"),  # and New Year's Day
    ],
)
def test_end_of_nth_school_day_without_terms(start: str, n: int, expected: str) -> None:
    assert_local(CAL.end_of_nth_school_day_after(date.fromisoformat(start), n), expected)


def test_end_of_nth_school_day_needs_a_day_to_count() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CAL.end_of_nth_school_day_after(date(2026, 9, 14), 0)


AUTUMN = WorkCalendar(
    school_terms=(
        (date(2026, 11, 2), date(2026, 12, 18)),
        (date(2026, 9, 2), date(2026, 10, 23)),
    ),
    non_school_days=frozenset({date(2026, 11, 2)}),  # a training day
)


def test_half_term_and_training_days_are_not_school_days() -> None:
    assert AUTUMN.is_school_day(date(2026, 10, 23))
    assert not AUTUMN.is_school_day(date(2026, 10, 26))  # half term
    assert not AUTUMN.is_school_day(date(2026, 11, 2))  # training day
    assert AUTUMN.is_school_day(date(2026, 11, 3))
    assert AUTUMN.is_working_day(date(2026, 10, 26))


def test_end_of_fifth_school_day_across_half_term() -> None:
    # Thu 22, Fri 23 Oct; half term; Mon 2 Nov training; Tue 3, Wed 4, Thu 5 Nov.
    deadline = AUTUMN.end_of_nth_school_day_after(date(2026, 10, 21))
    assert_local(deadline, "2026-11-06T00:00+00:00")


def test_outside_the_configured_terms_school_days_are_working_days() -> None:
    # The calendar covers 2 Sep - 18 Dec 2026; beyond it, the spec's default applies.
    assert AUTUMN.is_school_day(date(2027, 1, 4))
    assert AUTUMN.is_school_day(date(2026, 8, 3))
    assert not AUTUMN.is_school_day(date(2026, 12, 28))  # still a bank holiday
    deadline = AUTUMN.end_of_nth_school_day_after(date(2026, 12, 16))
    # Thu 17, Fri 18 Dec; 21 Dec onwards is past the calendar: Mon 21, Tue 22, Wed 23.
    assert_local(deadline, "2026-12-24T00:00+00:00")


def test_without_terms_a_school_day_is_a_working_day() -> None:
    for offset in range(400):
        day = date(2026, 1, 1) + timedelta(days=offset)
        assert CAL.is_school_day(day) == CAL.is_working_day(day)


# -- the next school day's 08:30 --------------------------------------------------------


def test_the_encompass_example() -> None:
    scenario = json.loads((EXAMPLES / "encompass_unknown_school.json").read_text())
    event = scenario["events"][0]
    due = CAL.next_school_day_0830(datetime.fromisoformat(event["recorded_at"]))
    assert due == datetime.fromisoformat(scenario["expect"][0]["due_by"])
    assert_local(due, "2026-05-20T08:30+01:00")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-05-19T21:00", "2026-05-20T08:30"),
        ("2026-05-20T08:00", "2026-05-20T08:30"),
        ("2026-05-20T08:29:59", "2026-05-20T08:30"),
        ("2026-05-20T08:30", "2026-05-21T08:30"),  # strictly later
        ("2026-05-22T21:00", "2026-05-26T08:30"),  # over the spring bank holiday
        ("2026-05-23T07:00", "2026-05-26T08:30"),  # Saturday
        ("2026-12-24T12:00", "2026-12-29T08:30"),
        ("2026-03-27T21:00+00:00", "2026-03-30T08:30+01:00"),  # clock change
        ("2026-05-20T07:29:00+00:00", "2026-05-20T08:30+01:00"),  # 08:29 BST
    ],
)
def test_next_school_day_0830(start: str, expected: str) -> None:
    assert_local(CAL.next_school_day_0830(at(start)), expected)


def test_next_school_day_0830_skips_half_term() -> None:
    assert_local(AUTUMN.next_school_day_0830(at("2026-10-23T10:00")), "2026-11-03T08:30")


# -- configuration ----------------------------------------------------------------------


def test_an_unknown_time_zone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="time zone"):
        WorkCalendar(timezone="Europe/Plymouth")


def test_working_hours_must_make_sense() -> None:
    with pytest.raises(ConfigurationError, match="working hours"):
        WorkCalendar(workday_start=time(17), workday_end=time(9))


def test_a_term_must_not_end_before_it_starts() -> None:
    with pytest.raises(ConfigurationError, match=r"school_terms\[0\]"):
        WorkCalendar(school_terms=((date(2026, 12, 18), date(2026, 11, 2)),))


def test_custom_bank_holidays_and_hours() -> None:
    cal = WorkCalendar(
        bank_holidays=england_bank_holidays(2026, 2026) | {date(2026, 6, 5)},
        holiday_years=(2026, 2026),
        workday_start=time(8),
        workday_end=time(18),
    )
    assert not cal.is_working_day(date(2026, 6, 5))
    assert_local(cal.add_working_hours(at("2026-06-04T17:00"), 2), "2026-06-08T09:00")


def test_calendars_are_values() -> None:
    assert WorkCalendar() == WorkCalendar()
    assert hash(WorkCalendar()) == hash(WorkCalendar())
    with pytest.raises(AttributeError):
        CAL.timezone = "UTC"  # type: ignore[misc]


# -- age --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "on", "age"),
    [
        ("2018-03-03", "2026-05-19", 8),
        ("2018-03-03", "2026-03-03", 8),  # birthday
        ("2018-03-03", "2026-03-02", 7),
        ("2008-02-29", "2026-02-28", 17),  # leapling, common year
        ("2008-02-29", "2026-03-01", 18),
        ("2008-02-29", "2028-02-29", 20),
        ("2026-05-19", "2026-05-19", 0),
        ("2026-06-01", "2026-05-19", -1),  # unborn
    ],
)
def test_age_on(dob: str, on: str, age: int) -> None:
    assert age_on(date.fromisoformat(dob), date.fromisoformat(on)) == age


# -- properties -------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, LONDON, timezone(timedelta(hours=-5)), ZoneInfo("Asia/Tokyo")])
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=ZONES,
    allow_imaginary=False,
)
COUNTS = st.integers(min_value=0, max_value=40)


def working_instants() -> st.SearchStrategy[datetime]:
    """Instants inside working hours on a working day, in London."""
    return st.builds(
        lambda day, minute: (
            datetime.combine(day, time(9), tzinfo=LONDON) + timedelta(minutes=minute)
        ),
        st.dates(date(2024, 1, 1), date(2028, 12, 31)).filter(CAL.is_working_day),
        st.integers(min_value=0, max_value=8 * 60 - 1),
    )


@given(INSTANTS, COUNTS)
def test_working_days_land_on_working_days(t: datetime, n: int) -> None:
    result = CAL.add_working_days(t, n)
    assert result.tzinfo is LONDON
    assert CAL.is_working_day(result.date())
    local = t.astimezone(LONDON)
    if CAL.is_working_day(local.date()):
        assert result.time() == local.time()
    else:
        assert result.time() == time(9)
    assert result >= t


@given(INSTANTS, COUNTS, COUNTS)
def test_working_days_are_monotone(t: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert CAL.add_working_days(t, low) <= CAL.add_working_days(t, high)
    if low < high:
        assert CAL.add_working_days(t, low) < CAL.add_working_days(t, high)


@given(INSTANTS, st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=30))
def test_working_days_add_up_from_working_days(t: datetime, a: int, b: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(t, a), b) == CAL.add_working_days(t, a + b)


@given(INSTANTS, st.integers(min_value=1, max_value=60))
def test_working_hours_land_inside_working_hours(t: datetime, n: int) -> None:
    result = CAL.add_working_hours(t, n)
    assert result.tzinfo is LONDON
    assert result > t
    assert CAL.is_working_day(result.date())
    assert time(9) < result.time() <= time(17)


@given(working_instants(), COUNTS, COUNTS)
def test_working_hours_add_up_inside_working_hours(t: datetime, a: int, b: int) -> None:
    assert CAL.add_working_hours(CAL.add_working_hours(t, a), b) == CAL.add_working_hours(t, a + b)


@given(INSTANTS, COUNTS, COUNTS)
def test_working_hours_add_up_from_anywhere(t: datetime, a: int, b: int) -> None:
    assert CAL.add_working_hours(CAL.add_working_hours(t, a), b) == CAL.add_working_hours(t, a + b)


@given(INSTANTS, COUNTS, COUNTS)
def test_working_hours_are_monotone(t: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert CAL.add_working_hours(t, low) <= CAL.add_working_hours(t, high)


@given(working_instants(), st.integers(min_value=0, max_value=7))
def test_working_hours_within_a_day_are_wall_clock_hours(t: datetime, n: int) -> None:
    result = CAL.add_working_hours(t, n)
    if t.time() <= time(17 - n):
        assert result == t + timedelta(hours=n)


@settings(max_examples=50)
@given(st.dates(date(2024, 1, 1), date(2028, 12, 31)), st.integers(min_value=1, max_value=10))
def test_end_of_nth_school_day_counts_n_school_days(d: date, n: int) -> None:
    for cal in (CAL, AUTUMN):
        deadline = cal.end_of_nth_school_day_after(d, n)
        assert deadline.tzinfo is LONDON
        assert deadline.time() == time(0)
        last = deadline.date() - timedelta(days=1)
        assert cal.is_school_day(last)
        between = [d + timedelta(days=i) for i in range(1, (last - d).days + 1)]
        assert sum(cal.is_school_day(day) for day in between) == n


@given(INSTANTS)
def test_next_school_day_0830_is_the_first_one_after(t: datetime) -> None:
    for cal in (CAL, AUTUMN):
        due = cal.next_school_day_0830(t)
        assert due > t
        assert due.tzinfo is LONDON
        assert due.time() == time(8, 30)
        assert cal.is_school_day(due.date())
        day = t.astimezone(LONDON).date()
        while day < due.date():
            earlier = datetime.combine(day, time(8, 30), tzinfo=LONDON)
            assert not (cal.is_school_day(day) and earlier > t)
            day += timedelta(days=1)
