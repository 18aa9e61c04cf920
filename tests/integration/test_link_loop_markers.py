"""On the real Kafka, the link loop marks the record each transaction's marker follows.

The child stage passes a transaction's marker on broker.linked.v1 without asking Kafka
(broker.pipeline.offsets, `CLOSES_TRANSACTION`): the loop puts the header on the last
record a transaction writes to each partition, and the offset after it must be the
marker's. The loop links the identity scenarios in batches of three (several
transactions, several children, so several partitions each) onto a broker.linked.v1 of
four partitions; read as faust's consumer reads (uncommitted), on every partition the
offset after a marked record is never handed, the offset after any other record is, and
each partition's last record is marked. Then the child stage's plan over those offsets,
from the first, finds no gap at all.
"""

from __future__ import annotations

import asyncio
import uuid
from itertools import pairwise

from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.link_loop import LoopLinker
from broker.calendar.clock import EventClock
from broker.kafka.admin import create_topics
from broker.kafka.link_loop import LinkLoop
from broker.kafka.local import LocalKafka
from broker.pipeline import offsets
from broker.topics import ACCEPTED, LINKED, all_topics, link_state_topic
from tests.identity_scenarios import scenario_events
from tests.integration.test_link_loop_fenced import _publish
from tests.integration.worker import CODEC

PARTITIONS = 4

Handed = list[tuple[int, bool]]
"""A partition's records as a consumer is handed them: (offset, closes a transaction)."""


async def _link(bootstrap: str, raws: list[bytes]) -> None:
    app_id = f"markers-{uuid.uuid4().hex[:6]}"
    await create_topics(bootstrap, [ACCEPTED, link_state_topic(app_id)], 1, 1)
    await create_topics(bootstrap, all_topics(), PARTITIONS, 1)
    await _publish(bootstrap, raws)
    loop = LinkLoop(
        LoopLinker(CODEC.decode, EventClock()),
        CODEC,
        bootstrap=bootstrap,
        app_id=app_id,
        state_topic=link_state_topic(app_id).name,
        batch_max=3,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=loop.group)
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while (await consumer.committed(TopicPartition(ACCEPTED.name, 0))) != len(raws):
            assert asyncio.get_running_loop().time() < deadline, "the loop did not link all"
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
        stop.set()
        await asyncio.wait_for(running, 30)


async def _handed(bootstrap: str) -> dict[int, Handed]:
    consumer = AIOKafkaConsumer(
        LINKED.name,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_uncommitted",  # as faust's consumer reads
    )
    await consumer.start()
    found: dict[int, Handed] = {}
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            for tp, messages in batch.items():
                found.setdefault(tp.partition, []).extend(
                    (m.offset, offsets.closes_transaction(m.headers)) for m in messages
                )
    finally:
        await consumer.stop()
    return found


def test_the_offset_after_a_record_that_closes_a_transaction_is_its_marker(
    own_kafka: LocalKafka,
) -> None:
    raws = [CODEC.encode(e, topic=ACCEPTED.name) for e in scenario_events()]
    asyncio.run(_link(own_kafka.bootstrap, raws))
    handed = asyncio.run(_handed(own_kafka.bootstrap))
    assert len(handed) > 1  # several partitions written
    for records in handed.values():
        for (offset, closes), (following, _) in pairwise(records):
            assert following == offset + (2 if closes else 1)
        assert records[-1][1]  # the last transaction's last record there
        found = [offset for offset, _ in records]
        flags = [closes for _, closes in records]
        assert offsets.plan(found, found[0], flags) == offsets.Plan(len(found), None)
