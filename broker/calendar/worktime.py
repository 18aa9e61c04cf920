"""The calendar every deadline uses: working days, working hours and school days.

Deadlines in rules.md ("4 working hours", "1 working day", "the end of the fifth school
day", "the next school day's 08:30") are promises made to people who work office hours
in England, so they are computed in England's local time (Europe/London by default)
on the wall clock: a deadline of 09:00 is 09:00 as the social worker's clock shows it,
before or after a clock change. Inputs may carry any UTC offset (the wire carries
instants); results are always aware datetimes in the calendar's zone.

Everything here is pure: the calendar is plain data handed in (time zone, bank holidays,
optional school terms), never read from the environment, so a replay computes exactly
the deadlines the live worker computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from broker.errors import ConfigurationError

# The years for which England's bank holidays are computed by default. Far wider than
# any record a MASH holds; a date outside it is refused rather than silently treated as
# having no bank holidays.
DEFAULT_HOLIDAY_YEARS: Final[tuple[int, int]] = (1990, 2100)

# Operation Encompass: schools are told before the school day starts (rules.md).
ENCOMPASS_TIME: Final[time] = time(8, 30)

_ONE_DAY: Final[timedelta] = timedelta(days=1)


@cache
def england_bank_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """England's bank holidays (substitute days included) from the `holidays` package.

    The United Kingdom's list for the subdivision `ENG` is England's: the early May,
    spring and summer bank holidays, Good Friday and Easter Monday, the substitute days
    when Christmas or New Year fall at a weekend, and one-off days (jubilees, state
    funerals). Scotland's and Northern Ireland's extra days are not holidays in England,
    so the subdivision matters. Cached: the list is the same for every calendar.
    """
    if first_year > last_year:
        raise ConfigurationError(f"bank holiday years: {first_year} is after {last_year}")
    years = range(first_year, last_year + 1)
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=years).keys())


@dataclass(frozen=True)
class WorkCalendar:
    """England's working calendar, as configuration handed to the rules.

    - `timezone`: the zone deadlines are local to (an IANA name).
    - `bank_holidays`: the non-working weekdays; `None` means England's from the
      `holidays` package for `holiday_years`. A partnership may pass its own set (for
      example England's plus a newly proclaimed one-off day).
    - `holiday_years`: the years `bank_holidays` covers; a date outside them raises
      rather than counting as a working day that may not be one.
    - `workday_start`, `workday_end`: working hours, 09:00 to 17:00.
    - `school_terms`: optional term ranges `(first_day, last_day)`, both inclusive. When
      none are configured a school day is a working day (events.md). Outside the span
      the terms cover (before the first term starts or after the last one ends) a school
      day is again a working day: a term calendar nobody has renewed must make school
      deadlines fall early rather than never.
    - `non_school_days`: single days schools are closed inside term (training days),
      with or without `school_terms`.
    """

    timezone: str = "Europe/London"
    bank_holidays: frozenset[date] | None = None
    holiday_years: tuple[int, int] = DEFAULT_HOLIDAY_YEARS
    workday_start: time = time(9)
    workday_end: time = time(17)
    school_terms: tuple[tuple[date, date], ...] | None = None
    non_school_days: frozenset[date] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"timezone: unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "_tz", tz)
        if self.bank_holidays is None:
            object.__setattr__(self, "bank_holidays", england_bank_holidays(*self.holiday_years))
        else:
            object.__setattr__(self, "bank_holidays", frozenset(self.bank_holidays))
        if self.workday_start.tzinfo is not None or self.workday_end.tzinfo is not None:
            raise ConfigurationError("working hours: give local clock times, without a zone")
        if not self.workday_start < self.workday_end:
            raise ConfigurationError("working hours: the start must be before the end")
        object.__setattr__(self, "non_school_days", frozenset(self.non_school_days))
        if self.school_terms is not None:
            object.__setattr__(self, "school_terms", _checked_terms(self.school_terms))

    # -- days --------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The zone every result is expressed in."""
        return self._tz

    def is_working_day(self, d: date) -> bool:
        """Monday to Friday, and not a bank holiday in England (events.md)."""
        _require_date(d)
        first, last = self.holiday_years
        if not first <= d.year <= last:
            raise ValueError(f"no bank holidays configured for {d.year} ({first}-{last})")
        assert self.bank_holidays is not None  # set in __post_init__
        return d.weekday() < 5 and d not in self.bank_holidays

    def is_school_day(self, d: date) -> bool:
        """A working day, inside a configured term, and not a configured closure day."""
        if not self.is_working_day(d) or d in self.non_school_days:
            return False
        terms = self.school_terms
        if not terms or d < terms[0][0] or d > terms[-1][1]:
            return True
        return any(first <= d <= last for first, last in terms)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        d += _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def next_school_day(self, d: date) -> date:
        """The first school day strictly after `d`."""
        d += _ONE_DAY
        while not self.is_school_day(d):
            d += _ONE_DAY
        return d

    # -- deadlines ---------------------------------------------------------------------

    def add_working_hours(self, t: datetime, n: int) -> datetime:
        """`t` plus `n` working hours: only 09:00-17:00 on working days count.

        The clock starts at `t` if it is inside working hours, else at the next 09:00 on
        a working day (before 09:00 on a working day: that day's 09:00; at or after
        17:00, or on a weekend or bank holiday: the next working day's 09:00). A result
        that lands exactly on 17:00 is 17:00 that day, not 09:00 the next: the deadline
        is the end of the last hour counted. `n == 0` returns `t` unchanged (in local
        time): adding nothing moves nothing. Hours are wall-clock hours, so a clock
        change over a weekend neither adds nor removes a working hour.

        rules.md: Friday 16:00 + 4 is Monday 12:00; Tuesday 20:00 + 4 is Wednesday 13:00.
        """
        _check_n(n)
        local = self._local(t)
        if n == 0:
            return local
        wall = local.replace(tzinfo=None, fold=0)
        remaining = timedelta(hours=n)
        day = wall.date()
        if not self.is_working_day(day) or wall.time() >= self.workday_end:
            day = self.next_working_day(day)
            wall = datetime.combine(day, self.workday_start)
        while True:
            start = max(wall, datetime.combine(day, self.workday_start))
            available = datetime.combine(day, self.workday_end) - start
            if remaining <= available:
                return self._localise(start + remaining)
            remaining -= available
            day = self.next_working_day(day)
            wall = datetime.combine(day, self.workday_start)

    def add_working_days(self, t: datetime, n: int) -> datetime:
        """The same clock time on the `n`th working day after `t`'s day (rules.md).

        Tuesday 10:00 + 1 is Wednesday 10:00; Friday 01:00 + 1 is Monday 01:00 (a time
        outside working hours on a working day keeps its clock time). A `t` on a day
        that is not a working day first moves to 09:00 on the next working day, and the
        `n` days are counted from there: Saturday 14:00 + 1 is Saturday -> Monday 09:00,
        then + 1 -> Tuesday 09:00. The move itself never counts as one of the `n` days,
        so a weekend event gets as many whole working days as a weekday one. With
        `n == 0` a working-day `t` is returned unchanged, a non-working-day `t` moved.
        """
        _check_n(n)
        local = self._local(t)
        day = local.date()
        if self.is_working_day(day):
            if n == 0:
                return local
            clock = local.time()
        else:
            day = self.next_working_day(day)
            clock = self.workday_start
        for _ in range(n):
            day = self.next_working_day(day)
        return self._localise(datetime.combine(day, clock))

    def end_of_nth_school_day_after(self, d: date, n: int = 5) -> datetime:
        """Midnight at the end of the `n`th school day counted from the day after `d`.

        `d` itself never counts, whether or not it is a school day (rules.md). The
        result is 00:00 local time on the day after the `n`th school day: a transition
        starting Monday 2026-09-14 is due by 2026-09-22T00:00+01:00 (the fifth school
        day after is Monday 21st).
        """
        _require_date(d)
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        day = d
        for _ in range(n):
            day = self.next_school_day(day)
        return self._localise(datetime.combine(day + _ONE_DAY, time(0)))

    def next_school_day_0830(self, t: datetime) -> datetime:
        """The first 08:30 on a school day strictly later than `t` (rules.md).

        Strictly: a `t` of exactly 08:30 on a school day gives the next school day's
        08:30. Tuesday 21:00 gives Wednesday 08:30; 08:00 on a school day gives 08:30
        the same day.
        """
        local = self._local(t)
        day = local.date()
        if self.is_school_day(day):
            candidate = self._localise(datetime.combine(day, ENCOMPASS_TIME))
            if candidate > local:
                return candidate
        return self._localise(datetime.combine(self.next_school_day(day), ENCOMPASS_TIME))

    # -- helpers -----------------------------------------------------------------------

    def _local(self, t: datetime) -> datetime:
        if not isinstance(t, datetime):
            raise TypeError(f"expected a datetime, not {type(t).__name__}")
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError("deadlines need a timezone-aware datetime")
        return t.astimezone(self._tz)

    def _localise(self, wall: datetime) -> datetime:
        """A naive local wall time as an aware datetime in the calendar's zone.

        The round trip through UTC makes the result a real instant: a wall time that
        does not exist (inside a spring-forward gap) moves forward past the gap, as a
        wall clock would show it.
        """
        return wall.replace(tzinfo=self._tz).astimezone(UTC).astimezone(self._tz)


def age_on(dob: date, on: date) -> int:
    """A child's age in full years on `on` (rules.md: taken at the event's occurred_at).

    A child born on 29 February turns a year older on 1 March in a common year, as
    English law counts it. Before the date of birth the result is negative (an unborn
    child, about whom a pre-birth concern may be raised, is of no school age); it does
    not raise, because such events are real.
    """
    _require_date(dob)
    _require_date(on)
    before_birthday = (on.month, on.day) < (dob.month, dob.day)
    return on.year - dob.year - int(before_birthday)


def _checked_terms(terms: Iterable[tuple[date, date]]) -> tuple[tuple[date, date], ...]:
    """Terms sorted by start, each validated: a malformed calendar stops the process."""
    checked: list[tuple[date, date]] = []
    for index, term in enumerate(terms):
        try:
            first, last = term
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"school_terms[{index}]: not a (start, end) pair") from exc
        if not (_is_plain_date(first) and _is_plain_date(last)):
            raise ConfigurationError(f"school_terms[{index}]: start and end must be dates")
        if first > last:
            raise ConfigurationError(f"school_terms[{index}]: starts after it ends")
        checked.append((first, last))
    return tuple(sorted(checked))


def _is_plain_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _require_date(d: date) -> None:
    """Refuse a datetime where a date is meant: `datetime == date` is always False, so a
    datetime would silently miss every bank holiday."""
    if not _is_plain_date(d):
        raise TypeError(f"expected a date, not {type(d).__name__}")


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be a whole number, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
