"""The ingest loop decides the next batch while the last one's offsets commit, and keeps
its commits in order (a fake consumer at the port, no Kafka).

Ingest is at least once: a batch's records are durable before its offsets are committed
(`IngestLoop._batch`), so a commit still going when the next batch is decided loses
nothing; a worker killed before it lands has the batch read again, as ever. Waiting for
it cost every batch a round trip to the group's coordinator before the next fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition

from broker.kafka.ingest_loop import IngestLoop


@dataclass
class Message:
    value: bytes
    offset: int
    topic: str


class GatedCommits:
    """A consumer whose offset commits wait to be let through, one by one."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.committed: list[dict[TopicPartition, int]] = []
        self.gates: list[asyncio.Future[None]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gates.append(gate)
        await gate
        self.committed.append(dict(offsets))

    def assignment(self) -> set[TopicPartition]:
        return self.assigned


def _fetched(tp: TopicPartition, *values: str, first: int = 0) -> Any:
    return {tp: [Message(v.encode(), first + n, tp.topic) for n, v in enumerate(values)]}


async def _until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("never came to pass")


@pytest.mark.asyncio
async def test_the_ingest_loop_decides_the_next_batch_while_the_last_commits() -> None:
    decided: list[list[bytes]] = []

    async def handle(messages: Sequence[tuple[bytes, str]]) -> None:
        decided.append([raw for raw, _ in messages])

    tp = TopicPartition("police.vist.v1", 4)
    consumer = GatedCommits({tp})
    port: Any = consumer  # at the consumer's port
    loop = IngestLoop(handle, bootstrap="unused", app_id="app")
    await asyncio.wait_for(loop._batch(port, _fetched(tp, "a")), 5.0)  # not committed yet
    await _until(lambda: consumer.gates)
    second = asyncio.ensure_future(loop._batch(port, _fetched(tp, "b", first=1)))
    await _until(lambda: len(decided) == 2)  # decided (and durable) while the first commits
    assert len(consumer.gates) == 1  # its own commit waits for the first's: in order
    consumer.gates[0].set_result(None)
    await second
    await _until(lambda: len(consumer.gates) == 2)
    consumer.gates[1].set_result(None)
    await loop._committed()
    assert consumer.committed == [{tp: 1}, {tp: 2}]
    assert loop._handled_to == {tp: 2}  # the lag counts from what is committed


@pytest.mark.asyncio
async def test_a_partition_given_up_while_its_offsets_commit_is_not_counted_again() -> None:
    async def handle(messages: Sequence[tuple[bytes, str]]) -> None: ...

    tp = TopicPartition("police.vist.v1", 4)
    consumer = GatedCommits({tp})
    port: Any = consumer
    loop = IngestLoop(handle, bootstrap="unused", app_id="app")
    await loop._batch(port, _fetched(tp, "a"))
    await _until(lambda: consumer.gates)
    consumer.assigned = set()  # a rebalance took it while the commit went
    consumer.gates[0].set_result(None)
    await loop._committed()
    assert loop._handled_to == {}
