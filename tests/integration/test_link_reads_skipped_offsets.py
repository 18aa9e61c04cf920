"""The link stage handles a message the committed offset has passed (real Kafka).

faust acknowledges a message its stream skips around a rebalance, and an acknowledged
offset is committed: `bench.chaos` seed 2 lost a police notice so (broker.accepted.v1
offset 1757 committed unread, the worker that took over began at 1758). Here that
commit is made by hand, exactly: one notice is linked, the worker stops, a second
notice is put on broker.accepted.v1 (as ingest puts it) and the group's offset is
committed past it, as faust's skip would. Restarted, the worker reads from the
committed offset; the next notice shows the link stage a gap, and it reads the second
notice again from where its last durable batch ended (broker.pipeline.offsets).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from broker.kafka.admin import create_topics
from broker.kafka.local import LocalKafka
from broker.kafka.publish import partition_key
from broker.models.events import parse_event
from broker.topics import ACCEPTED, LINKED, all_topics
from tests.integration.test_batch_killed_half_sent import _police_notices
from tests.integration.worker import CODEC, WorkerProcess, read_topic, worker_env

APP_ID = "mash-skipped"


async def _send(bootstrap: str, topic: str, event: dict[str, Any], *, key: str) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        value = CODEC.encode(parse_event(event), topic=topic)
        metadata = await producer.send_and_wait(topic, value, key=key.encode())
        return int(metadata.offset)
    finally:
        await producer.stop()


async def _commit_past(
    bootstrap: str,
    offset: int,
    tp: TopicPartition = TopicPartition(ACCEPTED.name, 0),
    group: str = APP_ID,
    within: float = 60,
) -> None:
    """Commit the group's offset of `tp` (broker.accepted.v1's) past `offset`, once the
    stopped worker's static membership has expired (Kafka takes a commit from outside
    the group only when the group is empty)."""
    deadline = time.monotonic() + within
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            await consumer.commit({tp: offset + 1})
            return
        except KafkaError:
            if time.monotonic() > deadline:
                raise
        finally:
            await consumer.stop()
        await asyncio.sleep(2)


def _linked(bootstrap: str, event_ids: set[str], timeout: float) -> set[str]:
    def ids(records: list[dict[str, Any]]) -> set[str]:
        return {(r["value"].get("event") or {}).get("event_id") for r in records} & event_ids

    records = asyncio.run(
        read_topic(bootstrap, LINKED.name, lambda rs: ids(rs) == event_ids, timeout=timeout)
    )
    return ids(records)


def test_a_message_committed_unread_is_still_linked(own_kafka: LocalKafka, tmp_path: Path) -> None:
    bootstrap = own_kafka.bootstrap
    first, skipped, after = _police_notices(30)[:3]
    asyncio.run(create_topics(bootstrap, all_topics(), partitions=1, replication=1))
    env = worker_env(bootstrap, tmp_path / "state", APP_ID)
    env["MASH_LINK_STAGE"] = "faust"  # faust's skip and commit; the loop commits in its transaction
    worker = WorkerProcess(env, tmp_path / "w.log")
    worker.start()
    try:
        key = partition_key(parse_event(first))
        asyncio.run(_send(bootstrap, "police.vist.v1", first, key=key))
        assert _linked(bootstrap, {first["event_id"]}, 120) == {first["event_id"]}, worker.tail()
        worker.stop()

        offset = asyncio.run(_send(bootstrap, ACCEPTED.name, skipped, key=skipped["event_id"]))
        asyncio.run(_commit_past(bootstrap, offset))  # as faust commits a message it skipped

        worker.start()
        key = partition_key(parse_event(after))
        asyncio.run(_send(bootstrap, "police.vist.v1", after, key=key))
        wanted = {skipped["event_id"], after["event_id"]}
        assert _linked(bootstrap, wanted, 120) == wanted, worker.tail()
    finally:
        worker.stop()
    assert "offsets never handed to the stage" in worker.log.read_text()
