"""Stage 2: the same event_id twice is processed once.

`seen` maps event_id to a fingerprint of the event's content; in the worker it is a
changelog-backed faust table (so it survives a restart), in replay a dict. An event_id
re-used for *different* content is not a duplicate but a publisher's mistake: it is
refused with a reason, never silently dropped and never processed twice.

The worker marks an event seen only after its outputs are sent, so a crash in between
re-processes it (at-least-once); the outputs' ids are deterministic, so consumers can
drop what they have already had.

**Bounded.** An id is remembered for HORIZON after the broker first processed it (the
broker's clock, never the sender's `recorded_at`, which a sender could set to anything),
then forgotten: `sighting` no longer counts it, and `forget_expired` deletes it (in the
worker, a tombstone on the table's compacted changelog), so the table holds one
horizon's ids, not every id ever sent. HORIZON is the inbound topics' retention
(`broker.topics.INBOUND_RETENTION_DAYS`, 400 days): whatever Kafka can still deliver
again (after a crash, a rebalance, or a consumer group reset to the start of the
topics) falls inside it, and so does a publisher re-sending last year's export. An id
re-sent after the horizon is processed again (its outputs have the ids they had).
A value is `fingerprint@instant`; one written before the horizon existed (a bare
fingerprint) counts as seen until the next sweep stamps it with the sweep's time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from broker.errors import Problem
from broker.models.events import Event
from broker.pipeline import offsets
from broker.topics import INBOUND_RETENTION_DAYS


class Sighting(Enum):
    FIRST = "first"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


def fingerprint(event: Event) -> str:
    """The event's content, independent of its wire format (JSON or Avro)."""
    return hashlib.sha256(event.model_dump_json().encode("utf-8")).hexdigest()[:32]


HORIZON: Final = timedelta(days=INBOUND_RETENTION_DAYS)
"""How long an event id is remembered after it was first processed: as long as an
inbound topic keeps the event, so no redelivery from Kafka is ever processed twice."""

SWEEP_EVERY: Final = timedelta(hours=1)
"""How often (on the broker's clock) the worker deletes the ids past the horizon."""


def sighting(
    seen: Mapping[str, str], event: Event, now: datetime | None = None, horizon: timedelta = HORIZON
) -> Sighting:
    """FIRST, DUPLICATE or CONFLICT; an id seen more than `horizon` before `now` is
    forgotten (FIRST), whether or not a sweep has deleted it yet."""
    known = seen.get(event.event_id)
    if known is None:
        return Sighting.FIRST
    content, at = _parse(known)
    if now is not None and at is not None and now - at > horizon:
        return Sighting.FIRST
    return Sighting.DUPLICATE if content == fingerprint(event) else Sighting.CONFLICT


def mark_seen(seen: MutableMapping[str, str], event: Event, at: datetime) -> None:
    seen[event.event_id] = f"{fingerprint(event)}@{at.isoformat()}"


def forget_expired(
    seen: MutableMapping[str, str], now: datetime, horizon: timedelta = HORIZON
) -> int:
    """Delete every id seen more than `horizon` before `now`; stamp unstamped ones with
    `now`. Returns how many were deleted."""
    return _sweep(seen, now, horizon)[0]


def _sweep(
    seen: MutableMapping[str, str], now: datetime, horizon: timedelta
) -> tuple[int, datetime | None]:
    """`forget_expired`, and the oldest stamp left (None: no id left)."""
    expired, unstamped = [], []
    oldest: datetime | None = None
    for event_id, value in list(seen.items()):
        if offsets.is_reserved(event_id):  # event_time.EVENT_TIME_KEY, the next offset
            continue
        at = _parse(value)[1]
        if at is None:
            unstamped.append((event_id, value))
        elif now - at > horizon:
            expired.append(event_id)
        elif oldest is None or at < oldest:
            oldest = at
    for event_id in expired:
        del seen[event_id]
    for event_id, value in unstamped:
        seen[event_id] = f"{value}@{now.isoformat()}"
    if unstamped and (oldest is None or now < oldest):
        oldest = now
    return len(expired), oldest


def _parse(value: str) -> tuple[str, datetime | None]:
    content, _, at = value.partition("@")
    try:
        return content, datetime.fromisoformat(at) if at else None
    except ValueError:
        return content, None


CONFLICT_PROBLEM = Problem(
    "event_id",
    "was already used for a different event; a correction or update needs a new event_id",
)


class Sweeper:
    """Runs `forget_expired` at most once every SWEEP_EVERY of the broker's clock, and
    not before the oldest id the last sweep left can have passed the horizon.

    The worker calls `maybe` after each batch, inside a message's context of the
    table's partition (faust writes a table only there): a sweep reads every id, so it
    runs rarely, and costs a batch its duration about once an hour.

    Why a sweep may wait for the oldest id left: every id marked after a sweep is marked
    at the broker's clock then, which is at least the sweep's own `now`, so at least that
    oldest stamp; nothing can expire before the oldest does. On the event clock (the
    tests, bench.live) a batch can span days of the council's year, and each batch paid
    a sweep over every id for nothing (3 % of a worker's time, `python -m bench.live
    --phases worker1` under py-spy). A wall clock set back by a few seconds only delays
    a deletion by as much: `sighting` treats an id past the horizon as new whether or not
    it was deleted. `forget` (the state read again, which may hold other ids) has the
    next call sweep."""

    def __init__(self, every: timedelta = SWEEP_EVERY, horizon: timedelta = HORIZON) -> None:
        self.every = every
        self.horizon = horizon
        self.next_at: datetime | None = None

    def forget(self) -> None:
        """The state was read again: sweep at the next call."""
        self.next_at = None

    def maybe(self, seen: MutableMapping[str, str], now: datetime) -> int | None:
        """How many ids were forgotten, or None when no sweep was due."""
        if self.next_at is not None and now < self.next_at:
            return None
        forgotten, oldest = _sweep(seen, now, self.horizon)
        self.next_at = now + self.every
        if oldest is not None:
            self.next_at = max(self.next_at, oldest + self.horizon)
        return forgotten
