"""The loops' group offsets are committed at most once an interval, the latest of each
partition, and the last ones always (broker.kafka.group_offsets), against a fake
consumer at the port."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from broker.kafka.group_offsets import GroupOffsets

A = TopicPartition("broker.linked.v1", 0)
B = TopicPartition("broker.linked.v1", 1)


class FakeConsumer:
    """Records each commit; refuses one when told to, as aiokafka does in a rebalance."""

    def __init__(self, assigned: set[TopicPartition] | None = None) -> None:
        self.assigned = assigned if assigned is not None else {A, B}
        self.commits: list[dict[TopicPartition, int]] = []
        self.refuse = 0

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await asyncio.sleep(0)
        if self.refuse:
            self.refuse -= 1
            raise CommitFailedError("rebalance under way")
        self.commits.append(dict(offsets))


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_the_first_offsets_are_committed_at_once() -> None:
    consumer = FakeConsumer()
    offsets = GroupOffsets(consumer, "child", interval=3600)
    offsets.note({A: 5})
    await settle()
    assert consumer.commits == [{A: 5}]


@pytest.mark.asyncio
async def test_offsets_within_the_interval_wait_and_are_committed_together() -> None:
    consumer = FakeConsumer()
    offsets = GroupOffsets(consumer, "child", interval=3600)
    offsets.note({A: 5})
    await settle()
    offsets.note({A: 7})
    offsets.note({B: 3})
    offsets.note({A: 9})
    await settle()
    assert consumer.commits == [{A: 5}]  # an hour's interval: not yet
    await offsets.flush()
    assert consumer.commits == [{A: 5}, {A: 9, B: 3}]  # the latest of each, once


@pytest.mark.asyncio
async def test_what_waits_is_committed_once_the_interval_has_passed() -> None:
    """Without a flush: the committed offsets reach the end once the loop is idle."""
    consumer = FakeConsumer()
    offsets = GroupOffsets(consumer, "link", interval=0.05)
    offsets.note({A: 1})
    await settle()
    for offset in range(2, 6):
        offsets.note({A: offset})
    await asyncio.sleep(0.5)
    assert consumer.commits == [{A: 1}, {A: 5}]


@pytest.mark.asyncio
async def test_a_commit_every_interval_under_a_steady_stream() -> None:
    clock = [0.0]
    consumer = FakeConsumer()
    offsets = GroupOffsets(consumer, "link", interval=1.0, clock=lambda: clock[0])
    for offset in range(1, 101):  # a batch every 10 ms of the clock, for a second
        offsets.note({A: offset})
        clock[0] += 0.01
        await settle()
    await offsets.flush()
    assert len(consumer.commits) <= 3  # not one a batch: a hundred
    assert consumer.commits[-1] == {A: 100}


@pytest.mark.asyncio
async def test_a_partition_given_up_is_left_out() -> None:
    consumer = FakeConsumer(assigned={B})
    offsets = GroupOffsets(consumer, "child", interval=3600)
    offsets.note({A: 5, B: 2})
    await offsets.flush()
    assert consumer.commits == [{B: 2}]
    consumer.assigned = set()
    offsets.note({B: 4})
    await offsets.flush()
    assert consumer.commits == [{B: 2}]  # nothing held: nothing asked of Kafka


@pytest.mark.asyncio
async def test_a_refused_commit_is_logged_and_the_next_commits_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = FakeConsumer()
    consumer.refuse = 1
    offsets = GroupOffsets(consumer, "child", interval=3600)
    with caplog.at_level(logging.WARNING, logger="broker.kafka.group_offsets"):
        offsets.note({A: 5})
        await offsets.flush()
    assert consumer.commits == []
    assert [r.getMessage() for r in caplog.records] == ["child group offsets not committed"]
    assert caplog.records[0].error == "CommitFailedError"  # type: ignore[attr-defined]
    offsets.note({A: 6})
    await offsets.flush()
    assert consumer.commits == [{A: 6}]


@pytest.mark.asyncio
async def test_flush_with_nothing_waiting_asks_nothing() -> None:
    consumer = FakeConsumer()
    offsets = GroupOffsets(consumer, "link")
    await offsets.flush()
    offsets.note({})
    await offsets.flush()
    assert consumer.commits == []
