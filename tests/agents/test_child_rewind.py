"""The child stage reads again what the consumer skipped, partition by partition
(agents.rewind.Rewind over the child store's next offsets).

faust acknowledges a message its stream skips around a rebalance, and the committed
offset can pass it (tests/agents/test_rewind.py: the link stage lost a police notice
so). broker.linked.v1 has several partitions and a batch of the child stage holds
messages of several: the stage keeps each partition's next offset with every durable
batch, in child-timers, and a partition whose messages begin past it is not handled
and is sought back, while the batch's other partitions go on. The consumer is a port
here: a fake that records the seeks. The tables are read and written from the current
message's partition only, as faust's RocksDB store reads and writes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from faust.streams import current_event
from faust.types import TP

from agents.child import handle_child_batch
from agents.guard import message_context
from agents.rewind import Rewind, closes
from broker.config.partnership import load_config
from broker.models.internal import ChildMessage
from broker.ops.logs import JsonFormatter
from broker.pipeline.child_store import ChildStore
from broker.pipeline.offsets import CLOSES_TRANSACTION, next_offset_key
from broker.pipeline.sink import MemorySink
from broker.topics import LINKED
from tests.agents.test_batches import CLOCK, PartitionedTable, police
from tests.agents.test_rewind import Consumer


class Message:
    """A message of broker.linked.v1 as the stream yields it (faust refers to the
    current one weakly, so a class, not a namespace); its value names the child
    message it carries."""

    def __init__(
        self, partition: int, offset: int, value: bytes = b"", *, closes: bool = False
    ) -> None:
        tp = TP(LINKED.name, partition)
        headers = [(CLOSES_TRANSACTION, b"")] if closes else []
        self.message = SimpleNamespace(
            offset=offset, tp=tp, partition=partition, value=value, headers=headers
        )


def messages(*found: tuple[int, int]) -> list[Any]:
    return [Message(partition, offset) for partition, offset in found]


class FaustStore(PartitionedTable):
    """A table as faust's RocksDB store keeps it, in the partition of the message
    being processed as faust knows it (`current_event`, which the agents set)."""

    def _here(self) -> dict[str, Any]:
        event = current_event()
        assert event is not None, "a table used outside a message's context"
        return self.partitions.setdefault(event.message.partition, {})


def child_stage() -> tuple[ChildStore, Rewind, Consumer]:
    store = ChildStore(FaustStore(), FaustStore(), FaustStore())
    consumer = Consumer()
    rewind = Rewind(SimpleNamespace(consumer=consumer), store.next_position, "child")  # type: ignore[arg-type]
    return store, rewind, consumer


def kept(store: ChildStore, next_offsets: dict[int, int]) -> None:
    """Next offsets as earlier durable batches left them, each in its partition's store."""
    timers: Any = store.timers
    for partition, offset in next_offsets.items():
        timers.partitions.setdefault(partition, {})[next_offset_key(partition)] = str(offset)


@pytest.mark.asyncio
async def test_only_the_partition_with_a_gap_is_held_back_and_sought() -> None:
    store, rewind, consumer = child_stage()
    kept(store, {3: 10, 5: 20})  # partition 5's offsets 20 and 21 were committed unread
    batch = messages((3, 10), (5, 22), (3, 11), (5, 23))
    assert await rewind.follow_on(batch) == [batch[0], batch[2]]
    assert consumer.seeks == [(TP(LINKED.name, 5), 20)]
    kept(store, {3: 12})  # partition 3's part of the batch handled
    # fetched before the seek, still arriving: dropped, not sought for again
    late = messages((3, 12), (5, 24))
    assert await rewind.follow_on(late) == late[:1]
    assert consumer.seeks == [(TP(LINKED.name, 5), 20)]
    kept(store, {3: 13})
    # read again from the gap: handed on in order
    again = messages((5, 20), (5, 21), (3, 13))
    assert await rewind.follow_on(again) == again


@pytest.mark.asyncio
async def test_a_seek_of_one_partition_does_not_hold_back_another() -> None:
    store, rewind, consumer = child_stage()
    kept(store, {1: 5, 2: 8})
    assert await rewind.follow_on(messages((1, 7))) == []
    assert await rewind.follow_on(messages((2, 9))) == []  # within PATIENCE of the first
    assert consumer.seeks == [(TP(LINKED.name, 1), 5), (TP(LINKED.name, 2), 8)]


@pytest.mark.asyncio
async def test_a_partition_never_kept_follows_on_from_its_first_message() -> None:
    """A stage's first batch on a partition (a new deployment) has nothing to go by."""
    _, rewind, consumer = child_stage()
    batch = messages((4, 300), (4, 301))
    assert await rewind.follow_on(batch) == batch
    assert consumer.seeks == []


async def deliver(
    store: ChildStore, rewind: Rewind, sink: MemorySink, batch: Sequence[Any]
) -> list[str]:
    """The child agent's loop over one batch (agents.child.register)."""
    events = await rewind.follow_on(batch)
    if not events:
        return []
    by_id = {m.event.event_id.encode(): m for m in MESSAGES}
    return await handle_child_batch(
        [(e.message.value, e.message.partition) for e in events],
        lambda raw: by_id[raw],
        store,
        sink,
        config=load_config(),
        clock=CLOCK,
        enter=message_context(events),
        message_offsets=[e.message.offset for e in events],
        closing=[closes(e.message) for e in events],
    )


MESSAGES = [
    ChildMessage(kind="event", child_id=child, at=CLOCK.now(), event=police(event_id))
    for child, event_id in [
        ("child-a", "pol-a1"),
        ("child-a", "pol-a2"),
        ("child-a", "pol-a3"),
        ("child-b", "pol-b1"),
    ]
]
"""Police notices about child-a (partition 2: offsets 0, 1, 2) and child-b (partition
6: offset 0)."""


def linked(partition: int, offset: int, event_id: str, *, closes: bool = False) -> Any:
    return Message(partition, offset, event_id.encode(), closes=closes)


A1, A2, A3, B1 = (
    linked(2, 0, "pol-a1"),
    linked(2, 1, "pol-a2"),
    linked(2, 2, "pol-a3"),
    linked(6, 0, "pol-b1"),
)


@pytest.mark.asyncio
async def test_a_child_message_committed_unread_is_still_handled_once() -> None:
    """pol-a2 (partition 2, offset 1) was acknowledged unread and committed past: the
    worker began that partition at offset 2. The children's records are the ones a
    worker that skipped nothing sends, each once."""
    straight = MemorySink()
    store, rewind, _ = child_stage()
    await deliver(store, rewind, straight, [A1, B1])
    await deliver(store, rewind, straight, [A2, A3])
    assert straight.records

    sink = MemorySink()
    store, rewind, consumer = child_stage()
    await deliver(store, rewind, sink, [A1])
    assert store.timers.partitions[2][next_offset_key(2)] == "1"  # type: ignore[attr-defined]
    assert await deliver(store, rewind, sink, [A3, B1]) == ["event"]  # child-b goes on
    assert consumer.seeks == [(TP(LINKED.name, 2), 1)]
    await deliver(store, rewind, sink, [A2, A3])  # read again from the gap

    assert sorted(map(repr, sink.records)) == sorted(map(repr, straight.records))
    assert len(sink.records) == len(set(map(repr, sink.records)))
    message_context([A3])(0)
    picture = store.load("child-a").picture
    assert picture is not None
    assert [e for e in picture.processed if e.startswith("pol-")] == ["pol-a1", "pol-a2", "pol-a3"]
    assert store.next_offset(2) == 3


@pytest.mark.asyncio
async def test_a_tick_in_the_place_of_a_marker_leaves_the_partition_caught_up() -> None:
    """The link loop's transaction closed at offset 1 (pol-a2); the ticker's record came
    at 2, before the transaction's marker (3). Handled in batches of their own, the
    partition's next offset is 4, its highwater: not one behind for ever in the lag
    (tests/integration/test_batch_killed_half_sent.py failed so in CI), and what comes
    at 4 follows on, with no gap to look for."""
    store, rewind, consumer = child_stage()
    sink = MemorySink()
    closing = linked(2, 1, "pol-a2", closes=True)
    tick = linked(2, 2, "pol-a3")  # any plain record in the marker's place
    assert await deliver(store, rewind, sink, [A1, closing]) == ["event", "event"]
    assert store.next_offset(2) == 3
    assert await deliver(store, rewind, sink, [tick]) == ["event"]
    assert store.next_offset(2) == 4
    after_marker = Message(2, 4)
    assert await rewind.follow_on([after_marker]) == [after_marker]
    assert consumer.seeks == []


@pytest.mark.asyncio
async def test_a_gap_is_logged_with_fields_the_logs_keep(caplog: pytest.LogCaptureFixture) -> None:
    """The worker's logs keep only allowlisted fields (broker.ops.logs): the stage, the
    partition, where it reads again from and how many offsets were never handed on."""
    store, rewind, _ = child_stage()
    kept(store, {5: 20})
    with caplog.at_level(logging.WARNING, logger="agents.rewind"):
        await rewind.follow_on(messages((5, 23)))
    [record] = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "offsets never handed to the stage; reading them again"
    assert {k: line[k] for k in ("stage", "topic", "partition", "offset", "count")} == {
        "stage": "child",
        "topic": LINKED.name,
        "partition": 5,
        "offset": 20,
        "count": 3,
    }
