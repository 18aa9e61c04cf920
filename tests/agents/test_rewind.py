"""The link stage reads again what the consumer skipped (agents.rewind.Rewind).

faust acknowledges a message its stream skips around a rebalance, and the committed
offset can pass it: `bench.chaos` seed 2 lost a police notice so (offset 1757; the
worker that took over began at 1758). The stage keeps the next offset it expects with
each durable batch; a batch past it is not handled, and the consumer is sought back.
The consumer is a port here: a fake that records the seeks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from agents.link import handle_accepted_batch
from agents.rewind import Rewind
from broker.calendar.clock import ManualClock
from broker.pipeline import offsets
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.offsets import NEXT_OFFSET_KEY
from broker.pipeline.sink import MemorySink
from broker.topics import ACCEPTED, LINKED
from tests.unit.test_applied_once import FAR_LATER, police

ACCEPTED_TP = TP(ACCEPTED.name, 0)


class Consumer:
    """The consumer's port as the stage uses it: seek."""

    def __init__(self) -> None:
        self.seeks: list[tuple[TP, int]] = []

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


class Message:
    """A message of broker.accepted.v1 as the stream yields it (faust refers to the
    current one weakly, so a class, not a namespace)."""

    def __init__(self, offset: int) -> None:
        self.message = SimpleNamespace(offset=offset, tp=ACCEPTED_TP, partition=0)


def messages(*offsets: int) -> list[Any]:
    return [Message(o) for o in offsets]


def rewind(seen: dict[str, str]) -> tuple[Rewind, Consumer]:
    consumer = Consumer()
    app = SimpleNamespace(consumer=consumer)
    expected = lambda partition: offsets.expected(seen)  # noqa: E731  (as agents.link has it)
    return Rewind(app, expected, "link"), consumer  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_batch_past_the_next_offset_is_not_handled_and_the_gap_read_again() -> None:
    stage, consumer = rewind({NEXT_OFFSET_KEY: "1757"})
    assert await stage.follow_on(messages(1758, 1759)) == []
    assert consumer.seeks == [(ACCEPTED_TP, 1757)]
    # what was fetched before the seek is still arriving: dropped, not sought for again
    assert await stage.follow_on(messages(1760)) == []
    assert consumer.seeks == [(ACCEPTED_TP, 1757)]
    # read again from the gap: handed on in order
    again = messages(1757, 1758)
    assert await stage.follow_on(again) == again


@pytest.mark.asyncio
async def test_a_seek_undone_before_anything_came_is_made_again() -> None:
    """A rebalance right after the seek put the partition back past the gap, and the
    partition is quiet: nothing comes to show it. The stage seeks there again."""
    stage, consumer = rewind({NEXT_OFFSET_KEY: "57"})
    stage.PATIENCE = 0.01
    assert await stage.follow_on(messages(58)) == []
    await asyncio.sleep(stage.PATIENCE * 3)
    assert consumer.seeks == [(ACCEPTED_TP, 57), (ACCEPTED_TP, 57)]
    again = messages(57, 58)
    assert await stage.follow_on(again) == again  # the second seek took: settled
    await asyncio.sleep(stage.PATIENCE * 6)
    assert len(consumer.seeks) == 2


@pytest.mark.asyncio
async def test_a_seek_that_took_is_not_made_again() -> None:
    stage, consumer = rewind({NEXT_OFFSET_KEY: "57"})
    stage.PATIENCE = 0.01
    assert await stage.follow_on(messages(58)) == []
    again = messages(57, 58)
    assert await stage.follow_on(again) == again
    await asyncio.sleep(stage.PATIENCE * 6)
    assert consumer.seeks == [(ACCEPTED_TP, 57)]


@pytest.mark.asyncio
async def test_a_batch_that_follows_on_goes_through_untouched() -> None:
    stage, consumer = rewind({NEXT_OFFSET_KEY: "1757"})
    batch = messages(1755, 1756, 1757)  # delivered again after a crash, then new
    assert await stage.follow_on(batch) == batch
    assert consumer.seeks == []


@pytest.mark.asyncio
async def test_a_gap_kafka_itself_has_is_taken_after_some_seeks() -> None:
    """Messages deleted by retention while no worker read them: logged, not a loop."""
    stage, consumer = rewind({NEXT_OFFSET_KEY: "100"})
    stage.PATIENCE = 0.0
    for _ in range(stage.ATTEMPTS):
        assert await stage.follow_on(messages(500)) == []
    assert len(consumer.seeks) == stage.ATTEMPTS
    assert len(await stage.follow_on(messages(500))) == 1


@pytest.mark.asyncio
async def test_a_durable_batch_keeps_the_offset_to_handle_next() -> None:
    seen: dict[str, str] = {}
    events: Iterator[Any] = iter([police("pol-1"), police("pol-2", FAR_LATER)])
    sink = MemorySink()
    await handle_accepted_batch(
        [b"", b""],
        lambda raw: next(events),
        seen=seen,
        identity=IdentityStore({}),
        held={},
        sink=sink,
        clock=ManualClock(FAR_LATER),
        message_offsets=[41, 42],
    )
    assert len(sink.on(LINKED.name)) == 2
    assert seen[NEXT_OFFSET_KEY] == "43"
