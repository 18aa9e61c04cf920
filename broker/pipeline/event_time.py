"""Where the link stage's event clock was at each offset, kept for a batch read again.

Only on the event clock (tests, demos, bench.chaos; never production, where the wall
clock rules and none of this is read or written). Replay links the event at offset N
at the latest `recorded_at` of offsets 0..N; a worker must link it at the same time,
also when Kafka delivers it again: after a restart (its clock begins again in 1970), or
to a running worker after a rebalance or a seek (its clock has already passed it).

So with every durable batch the link stage keeps, in seen-events under
`EVENT_TIME_KEY`, its time before each offset it handled for the first time, as the
offsets where that time changed (`KEPT_POINTS` of them; a redelivery goes back to the
last commit, a few seconds), and `now`, the time after the last one. Before a batch,
`restore` gives the time before its first offset, wherever Kafka cut the batch.

`bench.chaos --seed 2` on 8f7288b found why offsets, not batches: a worker read
broker.accepted.v1 again from 3200, up to 3422, cut into other batches than the first
time and more of them than the 64 batch starts then kept; no start matched, the clock
began at the latest time (2030, from one valid event at 3300), and probes seen in 2026,
forgotten by the sweep that 2030 brought, were held for review a second time at 2030.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from broker.calendar.clock import BatchClock, Clock, EventClock, observe

EVENT_TIME_KEY: Final = "\x00event-clock"
"""The one key of seen-events that is not an event id (no event id may hold a control
character). JSON: {"now": instant, "to": last offset, "points": [[offset, instant]]},
each point the time before that offset and every later one up to the next point; read
also in its earlier forms (a bare instant is "now"; "before" maps batch starts)."""

KEPT_POINTS: Final = 256
"""How many changes of the time are kept: a redelivery reaches back to the last commit
(faust commits every few seconds), and the time moves at most once an offset."""


@dataclass
class Kept:
    now: datetime | None = None
    to: int | None = None
    points: list[tuple[int, datetime]] = field(default_factory=list)

    @classmethod
    def read(cls, value: str | None) -> Kept:
        if value is None:
            return cls()
        if not value.startswith("{"):
            return cls(datetime.fromisoformat(value))
        data = json.loads(value)
        now = datetime.fromisoformat(data["now"]) if data.get("now") else None
        pairs = data.get("points") or sorted(
            (int(offset), at) for offset, at in (data.get("before") or {}).items()
        )
        points = [(int(offset), datetime.fromisoformat(at)) for offset, at in pairs]
        to = data.get("to", points[-1][0] if points else None)
        return cls(now, to, points)

    def write(self) -> str:
        return json.dumps(
            {
                "now": self.now.isoformat() if self.now else None,
                "to": self.to,
                "points": [[offset, at.isoformat()] for offset, at in self.points],
            }
        )

    def before(self, offset: int | None) -> datetime | None:
        """The time before `offset`, if it was handled before; else `now`."""
        if offset is None or self.to is None or offset > self.to or not self.points:
            return self.now
        position = bisect.bisect_right([o for o, _ in self.points], offset) - 1
        return self.points[max(position, 0)][1]  # before the oldest kept: its time

    def add(self, offsets: Sequence[int], befores: Sequence[datetime]) -> None:
        """The times before offsets handled for the first time; a redelivery's are the
        first time's (kept already)."""
        for offset, at in zip(offsets, befores, strict=False):
            if self.to is not None and offset <= self.to:
                continue
            if not self.points or self.points[-1][1] != at:
                self.points.append((offset, at))
            self.to = offset
        del self.points[:-KEPT_POINTS]


def restore(seen: Mapping[str, str], clock: Clock, first_offset: int | None = None) -> Clock:
    """Before a batch: the clock to link it with, from the time before its first offset
    (the wall clock itself in production: no table read per batch). The worker's clock
    is moved on to where the stage had come, never back."""
    if not isinstance(clock, EventClock):
        return clock
    kept = Kept.read(seen.get(EVENT_TIME_KEY))
    if kept.now is not None:
        observe(clock, kept.now)
    start = kept.before(first_offset)
    return BatchClock(clock, clock.seen if start is None else start)


def keep(
    seen: MutableMapping[str, str],
    clock: Clock,
    offsets: Sequence[int] = (),
    befores: Sequence[datetime] = (),
) -> None:
    """After a durable batch: the times before its offsets, and how far the clock came."""
    if not isinstance(clock, EventClock):
        return
    kept = Kept.read(seen.get(EVENT_TIME_KEY))
    kept.add(offsets, befores)
    kept.now = clock.seen if kept.now is None else max(kept.now, clock.seen)
    seen[EVENT_TIME_KEY] = kept.write()
