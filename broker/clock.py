"""The broker's clock, as a port.

Deadlines fire on the broker's clock: the wall clock in a live worker, the events'
`recorded_at` in a replay, an injected clock in tests. Every rule takes the time from
here, never from `datetime.now()`, so that replay and the worker agree to the minute.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
