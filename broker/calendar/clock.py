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

    @property
    def seen(self) -> datetime:
        """The latest `recorded_at` observed, without the floor."""
        return self._seen

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


class BatchClock:
    """The event time of one batch of the link stage, which Kafka may deliver again.

    It starts where the stage's time was before the batch's first message the first
    time (broker.pipeline.event_time) and rises with each event's `recorded_at`, as
    replay's clock does at the same offsets; the worker's `EventClock` hears of every
    event too, and never goes back. Without it a batch read again by a worker whose
    clock had passed it (after a rebalance, a seek, a restart) was linked at the later
    time (bench.chaos seed 2: IDENTITY_REVIEW alerts raised in 2030, not 2026)."""

    def __init__(self, worker: EventClock, start: datetime) -> None:
        self.worker = worker
        self.seen = start

    def observe(self, instant: datetime) -> None:
        if instant.tzinfo is not None:
            self.seen = max(self.seen, instant)
        self.worker.observe(instant)

    def now(self) -> datetime:
        floor = self.worker.floor()
        return self.seen if floor is None else max(self.seen, floor)


def observe(clock: Clock, instant: datetime) -> None:
    """Tell an event-time clock what time an event says it is; the wall clock ignores it."""
    if isinstance(clock, EventClock | BatchClock):
        clock.observe(instant)


def wall_time(clock: Clock) -> datetime | None:
    """The clock's time when it is a wall clock; None on event time (EventClock,
    BatchClock, ManualClock), whose time is the events' own and so never behind any."""
    if isinstance(clock, EventClock | BatchClock | ManualClock):
        return None
    return clock.now()


def tick_bound(clock: Clock) -> tuple[datetime, bool]:
    """Up to when deadlines are due now, and whether one due exactly then is due."""
    now = clock.now()
    return now, isinstance(clock, EventClock) and clock.inclusive_at(now)
