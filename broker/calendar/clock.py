"""The broker's clock, as a port.

Deadlines fire on the broker's clock: the wall clock in a live worker, the events'
`recorded_at` in a replay, an injected clock in tests. Every rule takes the time from
here, never from `datetime.now()`, so that replay and the worker agree to the minute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, for the live worker."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: replay's clock, and the fake in tests.

    It never goes backwards: an event recorded earlier than one already processed does
    not rewind time (timers that fired stay fired).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(1970, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock only takes timezone-aware instants")
        self._now = max(self._now, instant)


class EventClock:
    """Event time, for a worker that must agree with replay to the record (tests, demos).

    The time is the latest `recorded_at` the worker has seen (`observe`), or, when later,
    the instant written in `floor_file` (ISO 8601): a test writes the end of a scenario
    there to let the deadlines due by then fire. A deadline due exactly at the floor fires
    too (`inclusive_at`), as at the end of a replay. Process-local: for one worker only,
    never for production, where the wall clock rules.
    """

    def __init__(self, floor_file: Path | None = None) -> None:
        self._seen = datetime(1970, 1, 1, tzinfo=UTC)
        self._floor_file = floor_file

    def observe(self, instant: datetime) -> None:
        if instant.tzinfo is not None:
            self._seen = max(self._seen, instant)

    def floor(self) -> datetime | None:
        if self._floor_file is None:
            return None
        try:
            text = self._floor_file.read_text(encoding="utf-8").strip()
            instant = datetime.fromisoformat(text) if text else None
        except (OSError, ValueError):
            return None
        return instant if instant is not None and instant.tzinfo is not None else None

    def now(self) -> datetime:
        floor = self.floor()
        return self._seen if floor is None else max(self._seen, floor)

    def inclusive_at(self, instant: datetime) -> bool:
        return instant == self.floor()


def observe(clock: Clock, instant: datetime) -> None:
    """Tell an event-time clock what time an event says it is; the wall clock ignores it."""
    if isinstance(clock, EventClock):
        clock.observe(instant)


def wall_time(clock: Clock) -> datetime | None:
    """The clock's time when it is a wall clock; None on event time (EventClock,
    ManualClock), whose time is the events' own and so never behind any of them."""
    if isinstance(clock, EventClock | ManualClock):
        return None
    return clock.now()


def tick_bound(clock: Clock) -> tuple[datetime, bool]:
    """Up to when deadlines are due now, and whether one due exactly then is due."""
    now = clock.now()
    return now, isinstance(clock, EventClock) and clock.inclusive_at(now)
