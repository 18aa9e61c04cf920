"""seen-events is bounded: an id is remembered for a horizon after it was processed.

Inside the horizon a replayed id is still refused (a duplicate dropped, other content
refused as a conflict); past it the id is forgotten, and the sweep deletes it so the
table holds one horizon's ids, not every id ever sent (broker/pipeline/dedupe.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.link import handle_accepted_batch
from broker.calendar.clock import EventClock, ManualClock
from broker.models.events import Event, parse_event
from broker.pipeline import dedupe, event_time
from broker.pipeline.engine import replay_lines
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import MemorySink
from broker.topics import LINKED, REJECTED
from tests.unit.test_ingest import GOOD

T0 = datetime(2026, 5, 19, 12, tzinfo=UTC)


def police(event_id: str, at: datetime, **changes: Any) -> dict[str, Any]:
    return {**GOOD, "event_id": event_id, "recorded_at": at.isoformat(), **changes}


def linked_ids(lines: list[dict[str, Any]]) -> list[str]:
    records = replay_lines([json.dumps(e).encode() for e in lines], ManualClock())
    return [r.value.event.event_id for r in records if r.topic == LINKED.name and r.value.event]


def test_an_id_replayed_inside_the_horizon_is_still_refused() -> None:
    first = police("pol-1", T0)
    later = T0 + dedupe.HORIZON - timedelta(hours=1)
    lines = [first, police("pol-2", later), first, police("pol-1", T0, rag="RED")]
    records = list(replay_lines([json.dumps(e).encode() for e in lines], ManualClock()))
    linked = [r.value.event.event_id for r in records if r.topic == LINKED.name]
    assert linked == ["pol-1", "pol-2"]  # the repeat is dropped
    [conflict] = [r.value for r in records if r.topic == REJECTED.name]
    assert "already used for a different event" in conflict.reasons[0].message


def test_an_id_replayed_past_the_horizon_is_processed_again() -> None:
    first = police("pol-1", T0)
    later = T0 + dedupe.HORIZON + timedelta(hours=1)
    assert linked_ids([first, police("pol-2", later), first]) == ["pol-1", "pol-2", "pol-1"]


def test_the_horizon_is_counted_from_when_the_broker_saw_it_not_the_senders_time() -> None:
    event = parse_event(police("pol-1", T0 - timedelta(days=400)))  # sent a year late
    seen: dict[str, str] = {}
    dedupe.mark_seen(seen, event, T0)
    assert dedupe.sighting(seen, event, T0 + timedelta(days=1)) is dedupe.Sighting.DUPLICATE


def test_the_sweep_forgets_only_what_is_past_the_horizon_and_stamps_old_values() -> None:
    old, recent = parse_event(police("old", T0)), parse_event(police("recent", T0))
    bare = parse_event(police("bare", T0))
    seen: dict[str, str] = {"bare": dedupe.fingerprint(bare)}  # written before the horizon
    dedupe.mark_seen(seen, old, T0)
    dedupe.mark_seen(seen, recent, T0 + timedelta(days=20))
    now = T0 + dedupe.HORIZON + timedelta(minutes=1)
    assert dedupe.forget_expired(seen, now) == 1
    assert set(seen) == {"bare", "recent"}
    assert seen["bare"].endswith(f"@{now.isoformat()}")
    assert dedupe.sighting(seen, bare, now) is dedupe.Sighting.DUPLICATE


def test_a_sweep_runs_at_most_once_an_hour() -> None:
    sweeper, seen = dedupe.Sweeper(), {}
    assert sweeper.maybe(seen, T0) == 0
    assert sweeper.maybe(seen, T0 + timedelta(minutes=59)) is None
    assert sweeper.maybe(seen, T0 + timedelta(minutes=61)) == 0


class CountedReads(dict[str, str]):
    """seen-events that counts the sweeps reading it whole."""

    reads = 0

    def items(self) -> Any:
        self.reads += 1
        return super().items()


def test_no_sweep_before_the_oldest_id_left_can_pass_the_horizon() -> None:
    """A sweep reads every id; ids are marked at the broker's clock, never before the
    last sweep, so none can expire before the oldest one left by it does."""
    seen, sweeper = CountedReads(), dedupe.Sweeper()
    dedupe.mark_seen(seen, parse_event(police("pol-1", T0)), T0)
    assert sweeper.maybe(seen, T0 + timedelta(hours=1)) == 0
    for hours in (2, 24 * 30, 24 * 399):  # a batch a month, on the event clock
        dedupe.mark_seen(seen, parse_event(police(f"pol-{hours}", T0)), T0 + timedelta(hours=hours))
        assert sweeper.maybe(seen, T0 + timedelta(hours=hours)) is None
    assert seen.reads == 1
    assert sweeper.maybe(seen, T0 + dedupe.HORIZON + timedelta(minutes=1)) == 1
    assert set(seen) == {"pol-2", "pol-720", "pol-9576"}
    # the next sweep waits for pol-2, the oldest left
    assert sweeper.maybe(seen, T0 + dedupe.HORIZON + timedelta(hours=1, minutes=1)) is None
    assert sweeper.maybe(seen, T0 + dedupe.HORIZON + timedelta(hours=2, minutes=1)) == 1


def test_state_read_again_is_swept_at_the_next_call() -> None:
    seen, sweeper = CountedReads(), dedupe.Sweeper()
    dedupe.mark_seen(seen, parse_event(police("pol-new", T0)), T0)
    assert sweeper.maybe(seen, T0) == 0
    dedupe.mark_seen(seen, parse_event(police("pol-old", T0)), T0 - dedupe.HORIZON * 2)
    assert sweeper.maybe(seen, T0 + timedelta(hours=2)) is None
    sweeper.forget()  # the state was read again, with ids this sweeper never saw
    assert sweeper.maybe(seen, T0 + timedelta(hours=2)) == 1
    assert set(seen) == {"pol-new"}


def test_an_unstamped_id_stamped_by_a_sweep_waits_a_horizon_from_then() -> None:
    bare = parse_event(police("bare", T0))
    seen, sweeper = {"bare": dedupe.fingerprint(bare)}, dedupe.Sweeper()
    assert sweeper.maybe(seen, T0) == 0
    assert sweeper.maybe(seen, T0 + dedupe.HORIZON - timedelta(minutes=1)) is None
    assert sweeper.maybe(seen, T0 + dedupe.HORIZON + timedelta(minutes=1)) == 1


@pytest.mark.asyncio
async def test_the_link_agent_sweeps_the_table_after_a_batch() -> None:
    event: Event = parse_event(police("pol-new", T0))
    seen: dict[str, str] = {}
    dedupe.mark_seen(seen, parse_event(police("pol-old", T0)), T0 - dedupe.HORIZON * 2)
    outcomes = await handle_accepted_batch(
        [b"1"],
        lambda raw: event,
        seen=seen,
        identity=IdentityStore({}),
        held={},
        sink=MemorySink(),
        clock=ManualClock(T0),
        sweeper=dedupe.Sweeper(),
    )
    assert outcomes == ["linked"]
    assert set(seen) == {"pol-new"}


@pytest.mark.asyncio
async def test_a_restarted_link_stage_starts_its_event_clock_where_it_was() -> None:
    """On the event clock (tests), a worker killed and restarted links the next event at
    the time replay would, not at a clock begun again from the first event it reads."""
    seen: dict[str, str] = {}
    later = parse_event(police("pol-late", T0))
    first = EventClock()
    await handle_accepted_batch(
        [b"1"],
        lambda raw: later,
        seen=seen,
        identity=IdentityStore({}),
        held={},
        sink=MemorySink(),
        clock=first,
    )
    restarted = EventClock()  # a new process: its clock starts in 1970
    event_time.restore(seen, restarted)
    assert restarted.now() == first.now() == T0
    assert dedupe.forget_expired(seen, T0 + dedupe.HORIZON * 2) == 1  # the event, not the time
    assert set(seen) == {event_time.EVENT_TIME_KEY}


def test_an_event_time_kept_as_a_bare_instant_is_still_read() -> None:
    """The value's first form (before the batches' start times were kept)."""
    clock = EventClock()
    event_time.restore({event_time.EVENT_TIME_KEY: T0.isoformat()}, clock, first_offset=7)
    assert clock.now() == T0
