"""The child stage passes the link loop's transaction markers without asking Kafka
(agents.rewind over broker.pipeline.offsets, `CLOSES_TRANSACTION`).

With MASH_LINK_STAGE=loop every transaction leaves a marker, an offset no consumer is
handed, on each partition of broker.linked.v1 it wrote. The child stage asked
`GapProbe` (one fetch round trip) about each: at 100 events/s, 40 probes a second, 11 ms
each on the stage's path. The loop marks the last record each transaction writes to a
partition; the offset after it is the marker's, and no probe is needed. A message
truly skipped (faust acknowledging it unread) is still a gap and still read again.
The probe and the consumer are ports here: fakes that record what they were asked.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from faust.types import TP

from agents.child import handle_child_batch
from agents.guard import message_context
from agents.rewind import Rewind
from broker.config.partnership import load_config
from broker.pipeline.child_store import ChildStore
from broker.pipeline.offsets import CLOSES_TRANSACTION
from broker.pipeline.sink import MemorySink
from broker.topics import LINKED
from tests.agents.test_batches import CLOCK
from tests.agents.test_child_rewind import MESSAGES, FaustStore, kept
from tests.agents.test_rewind import Consumer

TP0 = TP(LINKED.name, 0)


class Probe:
    """GapProbe's port: which offsets hold a handed record (the rest are markers)."""

    def __init__(self, records: set[int]) -> None:
        self.records = records
        self.asked: list[tuple[int, int]] = []

    async def empty(self, topic: str, partition: int, start: int, end: int) -> bool:
        self.asked.append((start, end))
        return not any(start <= o < end for o in self.records)


class NotingConsumer(Consumer):
    """broker.kafka.transport's consumer: it also hears of offsets that hold no record."""

    def __init__(self) -> None:
        super().__init__()
        self.noted: list[tuple[TP, int, int]] = []

    async def no_records_in(self, tp: TP, start: int, end: int) -> None:
        self.noted.append((tp, start, end))


class Message:
    """A message of broker.linked.v1 with its headers, as faust's stream yields it."""

    def __init__(self, offset: int, closes: bool = False, value: bytes = b"") -> None:
        headers = [(CLOSES_TRANSACTION, b"")] if closes else []
        self.message = SimpleNamespace(
            offset=offset, tp=TP0, partition=0, value=value, headers=headers
        )


def stage(records: set[int]) -> tuple[ChildStore, Rewind, NotingConsumer, Probe]:
    store = ChildStore(FaustStore(), FaustStore(), FaustStore())
    consumer, probe = NotingConsumer(), Probe(records)
    app = SimpleNamespace(consumer=consumer)
    return store, Rewind(app, store.next_position, "child", probe), consumer, probe  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_marker_after_a_record_that_closes_a_transaction_costs_no_probe() -> None:
    """Two transactions: 10 (closes it; marker 11), 12, 13 (closes it; marker 14), 15."""
    store, rewind, consumer, probe = stage({10, 12, 13, 15})
    kept(store, {0: 10})
    batch = [Message(10, closes=True), Message(12), Message(13, closes=True), Message(15)]
    assert await rewind.follow_on(batch) == batch
    assert probe.asked == []
    assert consumer.seeks == []
    assert consumer.noted == [(TP0, 11, 12), (TP0, 14, 15)]  # faust may commit past them


@pytest.mark.asyncio
async def test_a_skipped_message_after_a_marker_is_still_read_again() -> None:
    """12 was acknowledged unread: after 10 (marker 11) the stage expects 12, not 13."""
    store, rewind, consumer, _ = stage({10, 12, 13})
    kept(store, {0: 10})
    batch = [Message(10, closes=True), Message(13)]
    assert await rewind.follow_on(batch) == batch[:1]
    assert consumer.seeks == [(TP0, 12)]


@pytest.mark.asyncio
async def test_a_tick_between_a_closing_record_and_its_marker_goes_through() -> None:
    """The ticker (a plain producer) wrote 11 while the transaction was open: its
    marker is at 12, after a record that closes nothing. 11 took the place kept for the
    marker, so the marker is the next offset, and 13 follows on: no look at Kafka."""
    store, rewind, consumer, probe = stage({10, 11, 13})
    kept(store, {0: 10})
    batch = [Message(10, closes=True), Message(11), Message(13)]
    assert await rewind.follow_on(batch) == batch
    assert probe.asked == []
    assert consumer.seeks == []


@pytest.mark.asyncio
async def test_the_next_offset_kept_after_a_closing_record_is_past_its_marker() -> None:
    """Across batches: the batch ends on a record that closes a transaction, and the
    next begins after its marker, with no probe."""
    store, rewind, _, probe = stage({0, 2})
    first = [Message(0, closes=True, value=MESSAGES[0].event.event_id.encode())]  # type: ignore[union-attr]
    by_id = {m.event.event_id.encode(): m for m in MESSAGES}  # type: ignore[union-attr]
    events = await rewind.follow_on(first)
    await handle_child_batch(
        [(e.message.value, e.message.partition) for e in events],
        lambda raw: by_id[raw],
        store,
        MemorySink(),
        config=load_config(),
        clock=CLOCK,
        enter=message_context(events),
        message_offsets=[0],
        closing=[True],
    )
    message_context(first)(0)
    assert store.next_offset(0) == 2
    then = [Message(2)]
    assert await rewind.follow_on(then) == then
    assert probe.asked == []
