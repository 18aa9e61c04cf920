"""The ingest, link and child loops step the next batch while the last one's transactions
commit, and keep the guarantees: a partition's transactions begin only once the last
has committed, in order, and a batch stepped after a transaction that then fails is
never committed (fakes at the producer and consumer ports, no Kafka).

Why: at 100 events/s each loop spent a transaction's round trips (12 ms on an idle
Kafka, more on a busy one) waiting before it even fetched the next batch, and each
event's latency includes its stage's wait for the batch before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from broker.codec import AvroCodec
from broker.kafka.child_loop import ChildLoop, Gathered
from broker.kafka.ingest_loop import IngestLoop
from broker.kafka.link_loop import LinkLoop
from broker.pipeline.child_store import ChildStore
from broker.pipeline.link_state import LinkedBatch
from broker.settings import Settings
from broker.topics import ACCEPTED, LINKED

CODEC = AvroCodec(Settings().schemas_dir)


@dataclass
class Message:
    value: bytes
    offset: int
    topic: str = ""


@dataclass
class GatedProducer:
    """A transactional producer whose commits wait to be let through, one by one; what
    it was asked, in order."""

    calls: list[str] = field(default_factory=list)
    gates: list[asyncio.Future[None]] = field(default_factory=list)

    async def begin_transaction(self) -> None:
        self.calls.append("begin")

    async def send(self, topic: str, value: bytes, **_: Any) -> asyncio.Future[None]:
        self.calls.append(f"send {value.decode()}")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    async def commit_transaction(self) -> None:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gates.append(gate)
        await gate
        self.calls.append("commit")

    async def abort_transaction(self) -> None:
        self.calls.append("abort")

    async def stop(self) -> None:
        self.calls.append("stop")


class Positions:
    """A consumer's position: after the last message fetched."""

    def __init__(self, after: int) -> None:
        self.after = after

    async def position(self, tp: TopicPartition) -> int:
        return self.after

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


class Linking:
    """A transform whose state record says which batch it linked."""

    def __init__(self) -> None:
        self.linked: list[list[bytes]] = []

    def reset(self) -> None: ...

    def load(self, key: bytes, value: bytes | None) -> None: ...

    def next_offset(self) -> int | None:
        return None

    async def __call__(self, raws: Sequence[bytes], offsets: Sequence[int]) -> LinkedBatch:
        self.linked.append(list(raws))
        return LinkedBatch([], [(b"state", b"+".join(raws))], ["linked"] * len(raws))


def _link_loop(producer: GatedProducer) -> tuple[LinkLoop, Linking]:
    transform = Linking()
    loop = LinkLoop(transform, CODEC, bootstrap="unused", app_id="app", state_topic="state")
    loop._producer = producer  # type: ignore[assignment]
    return loop, transform


def _fetched(topic: str, partition: int, *values: str, first: int = 0) -> Any:
    messages = [Message(v.encode(), first + n, topic) for n, v in enumerate(values)]
    return {TopicPartition(topic, partition): messages}


async def _returns(step: Any) -> None:
    """A batch's step returns while its transaction still commits."""
    await asyncio.wait_for(step, 5.0)


async def _until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never came to pass")


@pytest.mark.asyncio
async def test_the_link_loop_links_the_next_batch_while_the_last_commits() -> None:
    producer = GatedProducer()
    loop, transform = _link_loop(producer)
    await _returns(loop._batch(_fetched(ACCEPTED.name, 0, "a", "b")))  # not committed yet
    await _until(lambda: producer.gates)  # the first transaction is committing
    second = asyncio.ensure_future(loop._batch(_fetched(ACCEPTED.name, 0, "c", first=2)))
    await _until(lambda: len(transform.linked) == 2)
    assert transform.linked == [[b"a", b"b"], [b"c"]]  # linked while the first commits
    assert producer.calls == ["begin", "send a+b"]  # the second has not begun
    producer.gates[0].set_result(None)
    await second
    await _until(lambda: len(producer.gates) == 2)
    assert producer.calls == ["begin", "send a+b", "commit", "begin", "send c"]
    producer.gates[1].set_result(None)
    await loop._settle()
    assert producer.calls[-1] == "commit"
    assert loop._linked_to == {TopicPartition(ACCEPTED.name, 0): 3}


@pytest.mark.asyncio
async def test_a_link_batch_linked_behind_a_failed_transaction_is_never_committed() -> None:
    producer = GatedProducer()
    loop, _ = _link_loop(producer)
    await loop._batch(_fetched(ACCEPTED.name, 0, "a"))
    await _until(lambda: producer.gates)
    producer.gates[0].set_exception(KafkaConnectionError())
    with pytest.raises(KafkaConnectionError):  # the run loop aborts, reads state again
        await loop._batch(_fetched(ACCEPTED.name, 0, "b", first=1))
    assert producer.calls == ["begin", "send a"]  # b neither begun nor sent
    assert loop._linked_to == {}


def _child_loop(producers: dict[int, GatedProducer]) -> tuple[ChildLoop, list[list[bytes]]]:
    stepped: list[list[bytes]] = []

    async def handle(
        items: Sequence[tuple[bytes, int]], offsets: Sequence[int], store: ChildStore, out: Gathered
    ) -> list[str]:
        stepped.append([raw for raw, _ in items])
        return ["event"] * len(items)

    loop = ChildLoop(handle, CODEC, bootstrap="unused", app_id="app")
    loop._producers = producers  # type: ignore[assignment]
    loop._consumer = Positions(after=100)  # type: ignore[assignment]
    return loop, stepped


@pytest.mark.asyncio
async def test_the_child_loop_steps_the_next_batch_while_the_last_commits() -> None:
    producer = GatedProducer()
    loop, stepped = _child_loop({3: producer})
    await _returns(loop._batch(_fetched(LINKED.name, 3, "a")))  # not committed yet
    await _until(lambda: producer.gates)
    second = asyncio.ensure_future(loop._batch(_fetched(LINKED.name, 3, "b", first=1)))
    await _until(lambda: len(stepped) == 2)
    assert producer.calls == ["begin"]  # the second batch has not begun
    producer.gates[0].set_result(None)
    await second
    await _until(lambda: len(producer.gates) == 2)
    assert producer.calls == ["begin", "commit", "begin"]
    producer.gates[1].set_result(None)
    await loop._settle()
    assert producer.calls.count("commit") == 2
    # past what was fetched (a marker after it, say): the consumer's position
    assert loop._next == {TopicPartition(LINKED.name, 3): 100}


@pytest.mark.asyncio
async def test_a_child_batch_stepped_behind_a_failed_transaction_is_never_committed() -> None:
    failing, other = GatedProducer(), GatedProducer()
    loop, _ = _child_loop({3: failing, 5: other})
    await loop._batch({**_fetched(LINKED.name, 3, "a"), **_fetched(LINKED.name, 5, "x")})
    await _until(lambda: failing.gates and other.gates)
    failing.gates[0].set_exception(KafkaConnectionError())
    other.gates[0].set_result(None)
    with pytest.raises(KafkaConnectionError):  # the run loop gives every partition up
        await loop._batch(_fetched(LINKED.name, 5, "y", first=1))
    assert "abort" in failing.calls
    assert other.calls == ["begin", "commit"]  # y stepped, never begun
    await loop._release()
    assert loop._next == {}


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


@pytest.mark.asyncio
async def test_the_ingest_loop_decides_the_next_batch_while_the_last_commits() -> None:
    decided: list[list[bytes]] = []

    async def handle(messages: Sequence[tuple[bytes, str]]) -> None:
        decided.append([raw for raw, _ in messages])

    tp = TopicPartition("police.vist.v1", 4)
    consumer = GatedCommits({tp})
    loop = IngestLoop(handle, bootstrap="unused", app_id="app")
    port: Any = consumer  # at the consumer's port
    await _returns(loop._batch(port, _fetched(tp.topic, 4, "a")))
    await _until(lambda: consumer.gates)
    second = asyncio.ensure_future(loop._batch(port, _fetched(tp.topic, 4, "b", first=1)))
    await _until(lambda: len(decided) == 2)  # decided (and durable) while the first commits
    assert len(consumer.gates) == 1  # its own commit waits for the first's: in order
    consumer.gates[0].set_result(None)
    await second
    await _until(lambda: len(consumer.gates) == 2)
    consumer.gates[1].set_result(None)
    await loop._committed()
    assert consumer.committed == [{tp: 1}, {tp: 2}]
    assert loop._handled_to == {tp: 2}
