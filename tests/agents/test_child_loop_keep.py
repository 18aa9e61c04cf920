"""The child loop keeps the partitions it still holds across a rebalance
(broker/kafka/child_loop.py), without Kafka: fakes at its ports (the producer factory,
the table reader) and a consumer that notes where it is sought.

After a worker was killed, the survivor gave up every partition at the rebalance and
read again the tables of those it already held (`bench.chaos --child-stage loop`:
recovery after a kill at median 8.0 s, against 5.6 s for the faust agent). Now a
partition kept keeps its producer and its state, and is sought back to the offset it
handles next; only a new one's changelogs are read; one given up leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from broker.codec import AvroCodec
from broker.kafka.child_loop import Assignments, ChildLoop
from broker.kafka.child_state import TIMERS, StateMap, encode_key
from broker.kafka.tables import PICTURES
from broker.pipeline import offsets
from broker.settings import Settings
from broker.topics import LINKED

CODEC = AvroCodec(Settings().schemas_dir)
A = TopicPartition(LINKED.name, 1)
B = TopicPartition(LINKED.name, 2)
C = TopicPartition(LINKED.name, 3)


class FakeProducer:
    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


class FakeConsumer:
    """Notes each seek, as aiokafka's consumer would take it."""

    def __init__(self) -> None:
        self.sought: dict[TopicPartition, int] = {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought[tp] = offset


class Changelogs:
    """The table reader's port: each partition's changelogs hold one child's picture and
    the partition's next offset (100 times its number); notes what it is asked to read."""

    def __init__(self, failing: BaseException | None = None) -> None:
        self.reads: list[list[int]] = []
        self.failing = failing

    async def __call__(
        self,
        bootstrap: str,
        app_id: str,
        partitions: Sequence[int],
        maps: Mapping[str, StateMap],
        client_options: Mapping[str, Any] | None = None,
    ) -> int:
        self.reads.append(list(partitions))
        if self.failing is not None:
            raise self.failing
        for p in partitions:
            maps[PICTURES].load(p, encode_key(f"child-{p}"), b'{"read": true}')
            next_key = encode_key(offsets.next_offset_key(p))
            maps[TIMERS].load(p, next_key, json.dumps(str(100 * p)).encode())
        return 2 * len(partitions)


def _loop(changelogs: Changelogs) -> tuple[ChildLoop, list[FakeProducer]]:
    made: list[FakeProducer] = []

    def factory(loop: ChildLoop, partition: int) -> FakeProducer:
        made.append(FakeProducer(partition))
        return made[-1]

    async def handle(*args: Any) -> list[str]:
        raise AssertionError("no batch here")

    loop = ChildLoop(
        handle,
        CODEC,
        bootstrap="unused",
        app_id="app",
        producer_factory=factory,  # type: ignore[arg-type]
        table_reader=changelogs,
    )
    return loop, made


async def _held_after_a_batch(loop: ChildLoop, consumer: FakeConsumer) -> None:
    """A holds its state and a batch committed past what was read: its picture changed,
    a write noted under it, its next offset 130."""
    assert await loop._try_take(consumer, frozenset({A}))  # type: ignore[arg-type]
    assert consumer.sought == {A: 100}
    loop.maps[PICTURES].partition = 1
    loop.maps[PICTURES]["child-1"] = b'{"stepped": true}'
    loop.maps[PICTURES].taken(1)  # into the committed transaction
    loop._next[A] = 130


@pytest.mark.asyncio
async def test_a_partition_kept_is_not_read_again_and_is_sought_to_its_next_offset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="broker.kafka.child_loop")
    changelogs = Changelogs()
    loop, made = _loop(changelogs)
    consumer = FakeConsumer()
    await _held_after_a_batch(loop, consumer)
    producer_a = loop._producers[1]

    consumer.sought.clear()
    assert await loop._try_take(consumer, frozenset({A, B}))  # type: ignore[arg-type]
    assert changelogs.reads == [[1], [2]]  # B's only: A's state is the committed one
    assert loop.maps[PICTURES]["child-1"] == b'{"stepped": true}'  # not what was read
    assert loop.maps[PICTURES]["child-2"] == b'{"read": true}'
    assert consumer.sought == {A: 130, B: 200}  # A back where it was: the group's trails
    assert loop._next == {A: 130, B: 200}
    assert loop._producers[1] is producer_a
    assert not producer_a.stopped
    assert [p.partition for p in made] == [1, 2]  # B's started, A's not again
    took = [r for r in caplog.records if r.getMessage() == "child loop took its partitions"]
    assert (took[-1].partitions_kept, took[-1].partitions_read, took[-1].count) == (1, 1, 2)


@pytest.mark.asyncio
async def test_the_same_partitions_assigned_again_are_only_sought_back() -> None:
    """A rebalance that leaves the partitions as they were still resets their positions
    (aiokafka's new assignment): they are sought back, nothing is read nor started."""
    changelogs = Changelogs()
    loop, made = _loop(changelogs)
    consumer = FakeConsumer()
    await _held_after_a_batch(loop, consumer)
    consumer.sought.clear()
    assert await loop._try_take(consumer, frozenset({A}))  # type: ignore[arg-type]
    assert changelogs.reads == [[1]]
    assert consumer.sought == {A: 130}
    assert len(made) == 1


@pytest.mark.asyncio
async def test_a_partition_given_up_leaves_no_state_and_no_producer() -> None:
    changelogs = Changelogs()
    loop, _ = _loop(changelogs)
    consumer = FakeConsumer()
    assert await loop._try_take(consumer, frozenset({A, B}))  # type: ignore[arg-type]
    loop.maps[TIMERS].partition = 1
    loop.maps[TIMERS]["child-1"] = {"due": "2026-01-01T00:00:00+00:00", "partition": 1}
    producer_a, producer_b = loop._producers[1], loop._producers[2]

    assert await loop._try_take(consumer, frozenset({B, C}))  # type: ignore[arg-type]
    assert changelogs.reads == [[1, 2], [3]]
    assert producer_a.stopped
    assert 1 not in loop._producers
    assert loop._producers[2] is producer_b
    assert not producer_b.stopped
    assert set(loop._next) == {B, C}
    assert loop.owned_partitions() == {2, 3}  # the ticker's
    for mapping in loop.maps.values():
        assert all(home != 1 for home in mapping.home.values())
        assert 1 not in mapping.pending  # its write not taken: gone with it
    assert "child-1" not in loop.maps[PICTURES]
    assert loop.store.next_offset(1) is None
    assert loop.store.next_offset(2) == 200


@pytest.mark.asyncio
async def test_a_failure_while_taking_gives_every_partition_up() -> None:
    changelogs = Changelogs()
    loop, _ = _loop(changelogs)
    consumer = FakeConsumer()
    await _held_after_a_batch(loop, consumer)
    producer_a = loop._producers[1]
    changelogs.failing = KafkaConnectionError()
    loop.heartbeat_ms = 5
    assert not await loop._try_take(consumer, frozenset({A, B}))  # type: ignore[arg-type]
    assert loop._next == {}
    assert loop._producers == {}
    assert producer_a.stopped
    assert all(len(mapping) == 0 for mapping in loop.maps.values())


def test_every_assignment_is_counted_even_one_that_changes_nothing() -> None:
    """What `run` compares, beside the partitions: aiokafka calls the listener at each
    assignment, which resets the positions even when the partitions are the same."""
    assignments = Assignments()
    assignments.on_partitions_revoked({A})
    assignments.on_partitions_assigned({A})
    assignments.on_partitions_revoked({A})
    assignments.on_partitions_assigned({A})
    assert assignments.count == 2


@pytest.mark.asyncio
async def test_messages_before_the_next_offset_are_not_stepped_again() -> None:
    """A position reset to the group's trailing offset that reached the fetcher before
    the loop heard of the rebalance: what was committed already is dropped."""
    loop, _ = _loop(Changelogs())
    loop._next[A] = 130

    class M:
        def __init__(self, offset: int) -> None:
            self.offset = offset

    fetched = [M(o) for o in range(127, 133)]
    assert [m.offset for m in loop._unhandled(A, fetched)] == [130, 131, 132]
    assert [m.offset for m in loop._unhandled(B, fetched)] == list(range(127, 133))
