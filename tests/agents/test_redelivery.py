"""A message delivered again after a crash changes nothing and publishes nothing.

The child agent stores a child's slot once the batch's records are durable, and faust
commits the offset later: a worker killed in between gets the same messages again.
`bench.chaos --seed 2` found such a redelivery applied a second time once the clock was
far past the event (tests/unit/test_applied_once.py has why).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agents.child import handle_child_batch
from agents.link import handle_accepted_batch
from broker.calendar.clock import EventClock, ManualClock
from broker.config.partnership import load_config
from broker.models.events import Event
from broker.models.internal import ChildMessage
from broker.picture.model import FORGOTTEN_KEPT
from broker.pipeline import dedupe
from broker.pipeline.child_store import ChildStore
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import MemorySink
from broker.topics import LINKED
from tests.unit.test_applied_once import FAR_LATER, police


async def deliver(
    messages: list[ChildMessage], store: ChildStore, offsets: list[int] | None = None
) -> MemorySink:
    sink = MemorySink()
    queue = iter(messages)
    await handle_child_batch(
        [(b"", 0)] * len(messages),
        lambda raw: next(queue),
        store,
        sink,
        config=load_config(),
        clock=ManualClock(FAR_LATER),
        message_offsets=offsets or (),
    )
    return sink


@pytest.mark.asyncio
async def test_a_batch_delivered_again_after_its_slots_were_stored_is_a_no_op() -> None:
    pictures: dict[str, Any] = {}
    timers: dict[str, Any] = {}
    store = ChildStore(pictures, {}, timers)
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    batch = [
        ChildMessage(kind="event", child_id="child-x", at=at, event=police(event_id))
        for event_id in ("pol-1", "pol-2")
    ]
    first = await deliver(batch, store)
    assert first.records  # the alerts, deadlines and feedback of two RED notices
    stored = (dict(pictures), dict(timers))

    again = await deliver(batch, store)  # killed before the offsets were committed

    assert again.records == []
    assert (pictures, timers) == stored


async def a_police_notice_handled() -> tuple[dict[str, Any], dict[str, Any], ChildMessage]:
    """A RED notice about child-x handled at offset 7: the pictures and timers it left."""
    pictures: dict[str, Any] = {}
    timers: dict[str, Any] = {}
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    notice = ChildMessage(kind="event", child_id="child-x", at=at, event=police("pol-1"))
    await deliver([notice], ChildStore(pictures, {}, timers), offsets=[7])
    return pictures, timers, notice


@pytest.mark.asyncio
async def test_a_deadline_whose_timers_entry_a_kill_lost_is_kept_again_when_redelivered() -> None:
    """CI, tests/integration/test_batch_killed_half_sent.py: the picture's changelog had
    the AMBER notice (so, delivered again after the restart, it was skipped as handled)
    and the timers' changelog never had its deadline: the ticker never looked at the
    child, and DECISION_OVERDUE never fired. Saving the slot unchanged mends it."""
    pictures, running, notice = await a_police_notice_handled()
    assert "child-x" in running  # the decision's deadline, written with the picture

    # restored after the kill: the picture's changelog record had reached Kafka, the
    # timers' had not (three tables, three changelogs, written apart)
    restarted = ChildStore(dict(pictures), {}, {})
    again = await deliver([notice], restarted, offsets=[7])

    assert again.records == []  # handled before: nothing published twice
    assert restarted.timers == running
    assert [d.child_id for d in restarted.due(FAR_LATER, True, [0])] == ["child-x"]


@pytest.mark.asyncio
async def test_a_stale_timers_entry_is_mended_when_the_child_is_next_saved() -> None:
    """The entry a kill left behind is an older one: the picture's deadlines, not it,
    decide (the ticker would have looked at the wrong time)."""
    pictures, running, notice = await a_police_notice_handled()
    stale = {"child-x": {**running["child-x"], "due": "2030-07-01T00:00:00+00:00"}}
    stale["child-x"]["all"] = ["2030-07-01T00:00:00+00:00"]

    restarted = ChildStore(dict(pictures), {}, dict(stale))
    await deliver([notice], restarted, offsets=[7])

    assert restarted.timers == running


class Recording(dict[str, Any]):
    """A table that notes each write, in `order`, with its name."""

    def __init__(self, name: str, order: list[tuple[str, str]]) -> None:
        super().__init__()
        self.name = name
        self.order = order

    def __setitem__(self, key: str, value: Any) -> None:
        self.order.append((self.name, key))
        super().__setitem__(key, value)


async def deliver_noting(messages: list[ChildMessage], order: list[tuple[str, str]]) -> ChildStore:
    """The messages as one batch over recording tables; `durable` noted as it is awaited."""
    store = ChildStore(*(Recording(name, order) for name in ("pictures", "inbox", "timers")))
    queue = iter(messages)

    async def durable() -> None:
        order.append(("durable", ""))

    await handle_child_batch(
        [(b"", 0)] * len(messages),
        lambda raw: next(queue),
        store,
        MemorySink(),
        config=load_config(),
        clock=ManualClock(FAR_LATER),
        message_offsets=list(range(len(messages))),
        durable=durable,
    )
    return store


@pytest.mark.asyncio
async def test_a_merge_under_way_is_durable_before_the_picture_that_vouches_for_it() -> None:
    """The faust agent's inbox and pictures are two changelogs, on a cluster perhaps with
    two leaders. Written together and killed between, a picture that says the
    merge_await was handled, without the inbox that says whom the child waits for,
    would have the merged child's picture taken for a duplicate and dropped. So the
    inbox's writes are acknowledged (`durable`) before any picture is written."""
    order: list[tuple[str, str]] = []
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    await deliver_noting(
        [
            ChildMessage(kind="event", child_id="child-x", at=at, event=police("pol-1")),
            ChildMessage(kind="merge_await", child_id="child-x", at=at, other_child_id="child-y"),
        ],
        order,
    )
    assert ("inbox", "child-x") in order
    assert ("pictures", "child-x") in order
    assert order.index(("inbox", "child-x")) < order.index(("durable", ""))
    assert order.index(("durable", "")) < order.index(("pictures", "child-x"))


@pytest.mark.asyncio
async def test_no_wait_when_no_merge_is_under_way() -> None:
    order: list[tuple[str, str]] = []
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    await deliver_noting(
        [ChildMessage(kind="event", child_id="child-x", at=at, event=police("pol-1"))], order
    )
    assert ("pictures", "child-x") in order
    assert ("durable", "") not in order


@pytest.mark.asyncio
async def test_a_held_message_delivered_again_is_held_once() -> None:
    """Killed after the inbox was written and before the picture: the message comes
    again, on a slot that holds it already."""
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    waiting = ChildMessage(kind="merge_await", child_id="child-x", at=at, other_child_id="y")
    notice = ChildMessage(kind="event", child_id="child-x", at=at, event=police("pol-1"))
    store = ChildStore({}, {}, {})
    await deliver([waiting, notice], store, offsets=[0, 1])
    held = store.load("child-x")
    assert held.awaiting == ("y",)
    assert held.pending == (notice,)

    again = await deliver([notice], store, offsets=[1])

    assert again.records == []
    assert store.load("child-x").pending == (notice,)


@pytest.mark.asyncio
async def test_a_child_is_written_picture_last() -> None:
    """One broker keeps a producer's records in the order they were sent: the picture,
    which says what was handled, goes after the timers entry it vouches for."""
    order: list[tuple[str, str]] = []
    store = ChildStore(*(Recording(name, order) for name in ("pictures", "inbox", "timers")))
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    notice = ChildMessage(kind="event", child_id="child-x", at=at, event=police("pol-1"))
    await deliver([notice], store, offsets=[7])
    assert order.index(("timers", "child-x")) < order.index(("pictures", "child-x"))


@pytest.mark.asyncio
async def test_a_message_delivered_again_from_before_the_forgotten_ids_is_a_no_op() -> None:
    """`bench.chaos --seed 2 --link-stage loop`: faust's committed offset of
    broker.linked.v1 trailed the child stage by minutes (the loop's transaction markers,
    docs/notes/faust-kafka.md), so a restart delivered again messages older than the
    last `FORGOTTEN_KEPT` events of a busy child; with the clock at 2030 every event was
    forgotten as it was applied, and those were applied a second time (40 alerts
    changed). The picture now keeps the offset of the last message applied to it."""
    pictures: dict[str, Any] = {}
    timers: dict[str, Any] = {}
    store = ChildStore(pictures, {}, timers)
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    count = FORGOTTEN_KEPT + 8
    messages = [
        ChildMessage(kind="event", child_id="child-x", at=at, event=police(f"pol-{n}"))
        for n in range(count)
    ]
    first = [(await deliver([m], store, [offset])).records for offset, m in enumerate(messages)]
    assert any(first)  # one durable batch each: alerts, deadlines
    stored = (dict(pictures), dict(timers))

    again = await deliver(messages[:8], store, list(range(8)))  # from a trailing commit

    assert again.records == []
    assert (pictures, timers) == stored


@pytest.mark.asyncio
async def test_a_link_batch_delivered_again_is_linked_at_the_time_it_was_first() -> None:
    """On the event clock a restarted link stage starts its clock where the last durable
    batch left it; a batch Kafka delivers again was linked before that batch, at an
    earlier time. `bench.chaos --seed 2` had a valid event dated 2030 in the batch after
    one of probes: both durable, the worker killed before the offsets were committed,
    the probes came again at 2030, past their seen-events horizon, and were linked and
    held for review a second time (IDENTITY_REVIEW alerts raised at another time)."""
    seen: dict[str, str] = {}
    probe = police("probe-1")  # recorded 2026
    dated_2030 = police("pol-2030", FAR_LATER)

    before_the_kill = EventClock()
    assert (await link_batch(seen, [probe], 0, before_the_kill)).on(LINKED.name)
    assert (await link_batch(seen, [dated_2030], 1, before_the_kill)).on(LINKED.name)

    restarted = EventClock()  # the offsets were not committed: both batches come again
    again = await link_batch(seen, [probe, dated_2030], 0, restarted)

    assert again.records == []  # both duplicates, as they are
    assert restarted.now() == FAR_LATER


async def link_batch(
    seen: dict[str, str],
    events: list[Event],
    first_offset: int,
    clock: EventClock,
    sweeper: dedupe.Sweeper | None = None,
) -> MemorySink:
    sink, queue = MemorySink(), iter(events)
    await handle_accepted_batch(
        [b""] * len(events),
        lambda raw: next(queue),
        seen=seen,
        identity=IdentityStore({}),
        held={},
        sink=sink,
        clock=clock,
        sweeper=sweeper,
        message_offsets=range(first_offset, first_offset + len(events)),
    )
    return sink


@pytest.mark.asyncio
async def test_a_link_batch_delivered_again_from_within_a_batch_starts_at_that_offset() -> None:
    """Kafka delivers again from the last committed offset, which need not be where a
    batch began, and the batches of a redelivery are cut where they happen to be.
    `bench.chaos --seed 2` on 8f7288b: a worker read broker.accepted.v1 again from 3200
    after it had linked up to 3422 in other batches; no batch had begun at 3200, so the
    clock started at the latest time (2030, from a valid event at 3300) and the probes
    at 3219-3231, seen in 2026, were past their horizon and held for review again."""
    seen: dict[str, str] = {}
    clock = EventClock()
    first, second = police("probe-1"), police("probe-2")  # recorded 2026
    await link_batch(seen, [first, second], 0, clock)
    await link_batch(seen, [police("pol-2030", FAR_LATER)], 2, clock)

    again = await link_batch(seen, [second], 1, EventClock())  # the commit was at 1

    assert again.records == []  # a duplicate, as it was in 2026


@pytest.mark.asyncio
async def test_a_link_batch_delivered_again_to_a_running_worker_is_linked_at_its_time() -> None:
    """The worker that reads a batch again need not be a new process: after a rebalance
    or a seek its event clock has already passed the batch. The ids a sweep forgot in
    between (the clock moved four years) are linked again, and must be linked at the
    time they were the first time: the same records, sent again byte for byte."""
    seen: dict[str, str] = {}
    clock = EventClock()
    probe = police("probe-1")
    first = await link_batch(seen, [probe], 0, clock)
    await link_batch(seen, [police("pol-2030", FAR_LATER)], 1, clock, dedupe.Sweeper())
    assert probe.event_id not in seen  # forgotten: seen four years before the clock

    again = await link_batch(seen, [probe], 0, clock)

    assert again.records == first.records
    assert clock.now() == FAR_LATER  # the worker's clock never goes back
