"""The agents' batches: the same outcomes as one message at a time, state written only
once the batch's records are durable, one fault never costing the rest of the batch."""

from __future__ import annotations

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


class FakeStream:
    """Records which of faust's loops an agent used."""

    def __init__(self, items: list[int]) -> None:
        self.items = items
        self.used = ""

    async def events(self) -> Any:
        self.used = "events"
        for item in self.items:
            yield item

    async def take_events(self, max_: int, within: float) -> Any:
        self.used = "take_events"
        for i in range(0, len(self.items), max_):
            yield self.items[i : i + max_]


@pytest.mark.asyncio
async def test_one_message_at_a_time_is_fausts_own_loop_and_larger_batches_take_events() -> None:
    one = FakeStream([1, 2, 3])
    assert [b async for b in batches(one, 1, 0.01)] == [[1], [2], [3]]
    assert one.used == "events"  # the default: faust's message-by-message loop
    many = FakeStream([1, 2, 3])
    assert [b async for b in batches(many, 2, 0.01)] == [[1, 2], [3]]
    assert many.used == "take_events"
