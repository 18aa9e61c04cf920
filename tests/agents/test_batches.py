"""The agents' batches: the same outcomes as one message at a time, state written only
once the batch's records are durable, one fault never costing the rest of the batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from agents.child import handle_child_batch
from agents.guard import batches
from agents.ingest import handle_inbound_batch
from agents.link import handle_accepted_batch
from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.config.partnership import load_config
from broker.models.events import Event, parse_event
from broker.models.internal import ChildMessage
from broker.pipeline.child_store import ChildStore
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import MemorySink, Outgoing
from broker.settings import Settings
from broker.topics import ACCEPTED, LINKED, REJECTED
from tests.unit.test_ingest import GOOD

CLOCK = ManualClock(datetime(2026, 5, 19, 12, tzinfo=UTC))
CODEC = AvroCodec(Settings().schemas_dir)


def police(event_id: str, **subject: Any) -> Event:
    data = {**GOOD, "event_id": event_id, "subject": {**GOOD["subject"], **subject}}
    return parse_event(data)


class FailingSink(MemorySink):
    """Kafka away for good: nothing the batch sent is acknowledged."""

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        raise ConnectionError("Kafka is away")


@pytest.mark.asyncio
async def test_an_ingest_batch_decides_every_message_and_sends_once() -> None:
    sink = MemorySink()
    good = CODEC.encode(police("pol-a"), topic="police.vist.v1")
    outcomes = await handle_inbound_batch(
        [(good, "police.vist.v1"), (b"\x00garbage", "police.vist.v1")], CODEC, sink, CLOCK
    )
    assert outcomes == ["accepted", "rejected"]
    assert [r.topic for r in sink.on(ACCEPTED.name)] == [ACCEPTED.name]
    assert len(sink.on(REJECTED.name)) == 1


@pytest.mark.asyncio
async def test_a_duplicate_inside_one_link_batch_is_a_duplicate() -> None:
    sink, seen = MemorySink(), {}
    event = police("pol-twice")
    outcomes = await handle_accepted_batch(
        [b"1", b"2"],
        lambda raw: event,
        seen=seen,
        identity=IdentityStore({}),
        held={},
        sink=sink,
        clock=CLOCK,
    )
    assert outcomes == ["linked", "duplicate"]
    assert len(sink.on(LINKED.name)) == 1
    assert "pol-twice" in seen  # written once the batch was durable


@pytest.mark.asyncio
async def test_nothing_is_marked_seen_when_the_batch_was_not_sent() -> None:
    seen: dict[str, str] = {}
    table: dict[str, Any] = {}
    with pytest.raises(ConnectionError):
        await handle_accepted_batch(
            [b"1"],
            lambda raw: police("pol-unsent"),
            seen=seen,
            identity=IdentityStore(table),
            held={},
            sink=FailingSink(),
            clock=CLOCK,
        )
    assert seen == {}  # so the re-delivered message is linked again, not dropped
    assert table == {}


@pytest.mark.asyncio
async def test_a_fault_on_one_link_message_keeps_it_and_the_rest_of_the_batch() -> None:
    sink, seen = MemorySink(), {}
    events = {b"a": police("pol-a"), b"c": police("pol-c", given_name="Zara")}

    def decode(raw: bytes) -> Event:
        if raw == b"b":
            raise ValueError("not a record of ours")
        return events[raw]

    outcomes = await handle_accepted_batch(
        [b"a", b"b", b"c"],
        decode,
        seen=seen,
        identity=IdentityStore({}),
        held={},
        sink=sink,
        clock=CLOCK,
    )
    assert outcomes == ["linked", "failed", "linked"]
    assert len(sink.on(REJECTED.name)) == 1
    assert set(seen) == {"pol-a", "pol-c"}


@pytest.mark.asyncio
async def test_a_child_with_two_messages_in_a_batch_sees_the_first_before_the_second() -> None:
    sink = MemorySink()
    pictures: dict[str, Any] = {}
    store = ChildStore(pictures, {}, {})
    first, second = police("pol-1"), police("pol-1b", given_name="Dylan")
    messages = [
        ChildMessage(kind="event", child_id="child-x", at=CLOCK.now(), event=e)
        for e in (first, second, first)
    ]
    queue = iter(messages)
    outcomes = await handle_child_batch(
        [(b"", 0)] * 3,
        lambda raw: next(queue),
        store,
        sink,
        config=load_config(),
        clock=CLOCK,
    )
    assert outcomes == ["event", "event", "event"]
    stored = store.load("child-x").picture
    assert stored is not None
    assert {"pol-1", "pol-1b"} <= set(stored.processed)  # both, and the repeat once


class PartitionedTable(dict[str, Any]):
    """A table as faust's RocksDB store keeps it: one store per partition, and a read
    or write goes to the partition of the message being processed (`current_event`)."""

    def __init__(self) -> None:
        super().__init__()
        self.partitions: dict[int, dict[str, Any]] = {}
        self.current: int | None = None

    def _here(self) -> dict[str, Any]:
        assert self.current is not None, "a table used outside a message's context"
        return self.partitions.setdefault(self.current, {})

    def get(self, key: str, default: Any = None) -> Any:
        return self._here().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._here()

    def __setitem__(self, key: str, value: Any) -> None:
        self._here()[key] = value

    def pop(self, key: str, default: Any = None) -> Any:
        return self._here().pop(key, default)


@pytest.mark.asyncio
async def test_each_child_is_read_and_written_in_its_own_messages_context() -> None:
    """A child's slot is read from its partition's store, not the last one written:
    faust's rocksdb reads the current event's partition only, and a batch's reading
    task never sets the agent's context (the slot would look empty, the child new)."""
    tables = [PartitionedTable() for _ in range(3)]
    store = ChildStore(*tables)
    sink = MemorySink()

    def message(event_id: str, child_id: str) -> ChildMessage:
        event = police(event_id)
        return ChildMessage(kind="event", child_id=child_id, at=CLOCK.now(), event=event)

    async def batch(items: list[tuple[ChildMessage, int]]) -> None:
        def enter(position: int) -> None:
            for table in tables:
                table.current = items[position][1]

        queue = iter(m for m, _ in items)
        await handle_child_batch(
            [(b"", p) for _, p in items],
            lambda raw: next(queue),
            store,
            sink,
            config=load_config(),
            clock=CLOCK,
            enter=enter,
        )

    await batch([(message("pol-a1", "child-a"), 3), (message("pol-b1", "child-b"), 5)])
    await batch([(message("pol-a2", "child-a"), 3)])
    for table in tables:
        table.current = 3
    stored = store.load("child-a").picture
    assert stored is not None
    assert {"pol-a1", "pol-a2"} <= set(stored.processed)


class FakeStream:
    """A faust stream at the port `batches` uses: `events()`, `enable_acks`, `ack`.

    `gaps[i]` seconds pass before item i arrives; after the last item the stream
    stays open with nothing more to read (a quiet topic), unless `ends`."""

    def __init__(self, items: list[int], gaps: list[float] | None = None, ends: bool = True):
        self.items = items
        self.gaps = gaps or [0.0] * len(items)
        self.ends = ends
        self.enable_acks = True
        self.acked: list[int] = []
        self.handed: list[int] = []

    async def events(self) -> Any:
        for item, gap in zip(self.items, self.gaps, strict=True):
            await asyncio.sleep(gap)
            self.handed.append(item)
            yield item
        if not self.ends:
            await asyncio.Event().wait()

    async def ack(self, event: int) -> bool:
        self.acked.append(event)
        return True


@pytest.mark.asyncio
async def test_one_message_at_a_time_is_fausts_own_loop() -> None:
    one = FakeStream([1, 2, 3])
    assert [b async for b in batches(one, 1, 0.01)] == [[1], [2], [3]]
    assert one.enable_acks
    assert not one.acked


@pytest.mark.asyncio
async def test_a_backlog_comes_in_full_batches_each_acknowledged_once_handled() -> None:
    stream = FakeStream(list(range(7)))
    seen: list[list[int]] = []
    async for batch in batches(stream, 3, 0.05):
        assert not set(batch) & set(stream.acked)  # nothing acked before it is handled
        seen.append(batch)
    assert seen == [[0, 1, 2], [3, 4, 5], [6]]
    assert stream.acked == list(range(7))
    assert not stream.enable_acks


@pytest.mark.asyncio
async def test_a_lone_event_on_a_quiet_topic_is_handled_at_once() -> None:
    """One event, then nothing for a long time: the event is not held back to fill a batch."""
    stream = FakeStream([1, 2], gaps=[0.0, 0.3], ends=False)
    got = batches(stream, 100, 0.01)
    started = asyncio.get_running_loop().time()
    assert await anext(got) == [1]
    assert asyncio.get_running_loop().time() - started < 0.2
    assert await asyncio.wait_for(anext(got), 2) == [2]
    assert stream.acked == [1]
    await got.aclose()


@pytest.mark.asyncio
async def test_the_reader_holds_at_most_one_batch_ahead() -> None:
    """Back-pressure: events wait in Kafka (uncommitted), not in the worker's memory."""
    stream = FakeStream(list(range(50)))
    got = batches(stream, 5, 0.01)
    assert await anext(got) == [0, 1, 2, 3, 4]
    await asyncio.sleep(0.05)
    assert len(stream.handed) <= 5 + 5 + 1
    await got.aclose()


@pytest.mark.asyncio
async def test_a_failing_stream_fails_the_agent() -> None:
    class Broken(FakeStream):
        async def events(self) -> Any:
            yield 1
            raise RuntimeError("consumer crashed")

    with pytest.raises(RuntimeError, match="consumer crashed"):
        async for _ in batches(Broken([]), 10, 0.01):
            pass


class CountingTable(dict[str, Any]):
    """A table that counts its writes: each write is a changelog record in the worker."""

    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)


@pytest.mark.asyncio
async def test_a_record_that_teaches_the_index_nothing_writes_no_identity_state() -> None:
    table = CountingTable()
    identity = IdentityStore(table)
    events = {b"1": police("pol-first"), b"2": police("pol-again"), b"3": police("pol-moved")}
    events[b"3"] = police("pol-moved", postcode="PL4 6AB")
    for raw in (b"1", b"2", b"3"):
        before = table.writes
        await handle_accepted_batch(
            [raw],
            events.__getitem__,
            seen={},
            identity=identity,
            held={},
            sink=MemorySink(),
            clock=CLOCK,
        )
        if raw == b"1":
            assert table.writes == before + 1  # a new child
        elif raw == b"2":
            assert table.writes == before  # the same child, described as before
        else:
            assert table.writes == before + 1  # a new postcode is news
    [(child_id, state)] = table.items()
    rebuilt = IdentityStore(dict(table))  # what a restarted worker recovers: all of it
    assert rebuilt.index.to_state(child_id) == state
