"""Two link loops with one transactional id: the older is fenced, every output is once.

Loop A links broker.accepted.v1 in batches of three, one transaction each, and is held
after a batch's sends are acknowledged and before its commit (a zombie: a worker paused
past its session, a network partition). Loop B starts with the same transactional id:
its producer's initialisation aborts A's open transaction and fences A. B reads the
state topic (read committed: A's committed batches, nothing of the held one) and links
every event from the beginning (its own consumer group: the events A committed are
duplicates, and publish nothing). When A is let go, its commit fails and A stops with
`Fenced`, writing nothing more.

What a read_committed consumer reads on every output topic is then, in order and byte
for byte, what replay's link stage publishes for the events: nothing of the held batch,
nothing twice.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.link_loop import LoopLinker
from broker.calendar.clock import EventClock
from broker.errors import Fenced
from broker.kafka.admin import create_topics
from broker.kafka.link_loop import LinkLoop
from broker.kafka.local import LocalKafka
from broker.pipeline.link_state import LinkedBatch
from broker.topics import ACCEPTED, all_topics, link_state_topic
from tests.identity_scenarios import scenario_events
from tests.integration.test_link_loop_equals_replay import (
    _by_topic,
    _read,
    replayed,
)
from tests.integration.worker import CODEC

BATCH = 3


def _loop(bootstrap: str, app_id: str, **hooks: object) -> LinkLoop:
    return LinkLoop(
        LoopLinker(CODEC.decode, EventClock()),
        CODEC,
        bootstrap=bootstrap,
        app_id=app_id,
        state_topic=link_state_topic(app_id).name,
        batch_max=BATCH,
        **hooks,  # type: ignore[arg-type]
    )


async def _publish(bootstrap: str, raws: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for raw in raws:
            await producer.send_and_wait(ACCEPTED.name, raw)
    finally:
        await producer.stop()


async def _committed(bootstrap: str, group: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return (await consumer.committed(TopicPartition(ACCEPTED.name, 0))) or 0
    finally:
        await consumer.stop()


async def _until(check: object, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def _two_loops(bootstrap: str, raws: list[bytes]) -> LinkLoop:
    app_id = f"fence-{uuid.uuid4().hex[:6]}"
    await create_topics(bootstrap, [*all_topics(), link_state_topic(app_id)], 1, 1)
    await _publish(bootstrap, raws)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold_the_third_batch(batch: LinkedBatch) -> None:
        hold_the_third_batch.batches += 1  # type: ignore[attr-defined]
        if hold_the_third_batch.batches == 3:  # type: ignore[attr-defined]
            held.set()
            await release.wait()

    hold_the_third_batch.batches = 0  # type: ignore[attr-defined]
    older = _loop(bootstrap, app_id, before_commit=hold_the_third_batch)
    running = asyncio.create_task(older.run())
    await asyncio.wait_for(held.wait(), 60)

    async def two_batches_committed() -> bool:  # the group's offset trails by a second at most
        return await _committed(bootstrap, older.group) == 2 * BATCH

    await _until(two_batches_committed, 10)

    newer_group = f"{app_id}-newer"  # its own group: it reads from the beginning
    newer = _loop(bootstrap, app_id, group_id=newer_group)
    stop = asyncio.Event()
    taking_over = asyncio.create_task(newer.run(stop))

    async def newer_done() -> bool:
        return await _committed(bootstrap, newer_group) == len(raws)

    await _until(newer_done)
    release.set()
    with pytest.raises(Fenced):
        await asyncio.wait_for(running, 30)
    stop.set()
    await asyncio.wait_for(taking_over, 30)
    return newer


def test_the_older_loop_is_fenced_and_every_output_is_published_once(
    own_kafka: LocalKafka,
) -> None:
    events = scenario_events()
    raws = [CODEC.encode(e, topic=ACCEPTED.name) for e in events]
    expected, _ = replayed(events, raws)
    asyncio.run(_two_loops(own_kafka.bootstrap, raws))
    outputs = sorted({topic for topic, _, _ in expected})
    read = asyncio.run(_read(own_kafka.bootstrap, outputs))
    assert _by_topic(read) == _by_topic(expected)
