"""The child stage handles a message the committed offset has passed (real Kafka).

faust acknowledges a message its stream skips around a rebalance, and an acknowledged
offset is committed (tests/integration/test_link_reads_skipped_offsets.py: the link
stage lost a police notice so). broker.linked.v1 has several partitions; a linked
message lost so would be lost for its child: its alerts, its notifications, its audit.
Here that commit is made by hand, exactly: two of a child's four health updates about
neglect are handled (the second raises CUMULATIVE_NEGLECT), the worker stops, the
third is put on broker.linked.v1 for that child (as the link stage puts it) and the
group's offset of its partition is committed past it, as faust's skip would. Restarted,
the worker reads that partition from the committed offset; the fourth update shows
the child stage a gap, and it reads the third again from where its last durable batch
on that partition ended (child-timers' reserved key, broker.pipeline.offsets). The
third's alert is published once, and the fourth's counts it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from broker.kafka.admin import create_topics
from broker.kafka.local import LocalKafka
from broker.models.events import parse_event
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.topics import LINKED, all_topics
from tests.integration.test_child_stage import alerts_for, gus, write
from tests.integration.test_link_reads_skipped_offsets import _commit_past
from tests.integration.worker import (
    CODEC,
    WorkerProcess,
    publish,
    read_topic,
    wait_linked,
    worker_env,
)

APP_ID = "mash-child-skipped"
PARTITIONS = 3


async def _put_linked(bootstrap: str, message: ChildMessage, partition: int) -> int:
    """A child message on broker.linked.v1, keyed by its child, as the link stage
    sends it; its offset."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        value = CODEC.encode(message, topic=LINKED.name)
        key = message.child_id.encode()
        metadata = await producer.send_and_wait(LINKED.name, value, key=key, partition=partition)
        return int(metadata.offset)
    finally:
        await producer.stop()


def _alerts_until(bootstrap: str, *event_ids: str) -> list[dict[str, Any]]:
    """Every alert, once one has come for each of `event_ids` (alerts of one child may
    be on several partitions: wait for all, then read them all again)."""

    def arrived(records: list[dict[str, Any]]) -> bool:
        return all(alerts_for(records, event_id) for event_id in event_ids)

    asyncio.run(read_topic(bootstrap, "mash.alert.v1", arrived, 120))
    records: list[dict[str, Any]] = asyncio.run(
        read_topic(bootstrap, "mash.alert.v1", lambda rs: False, 5)
    )
    return records


def test_a_child_message_committed_unread_is_still_handled_once(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    bootstrap = own_kafka.bootstrap
    run_id = uuid.uuid4().hex[:8]
    events = gus(run_id)
    asyncio.run(create_topics(bootstrap, all_topics(), partitions=PARTITIONS, replication=1))
    env = worker_env(bootstrap, tmp_path / "state", APP_ID)
    env["MASH_TOPIC_PARTITIONS"] = str(PARTITIONS)
    env["MASH_CHILD_STAGE"] = "faust"  # the agent's guard; the loop reads from its own state
    worker = WorkerProcess(env, tmp_path / "w.log")
    worker.start()
    try:
        for number, event in enumerate(events[:2]):  # in order: see wait_linked
            assert publish(bootstrap, write(tmp_path / f"a{number}.jsonl", [event])).returncode == 0
            wait_linked(bootstrap, {event["event_id"]})
        records = _alerts_until(bootstrap, events[1]["event_id"])
        assert alerts_for(records, events[1]["event_id"]) == ["CUMULATIVE_NEGLECT"], worker.tail()
        [second] = [
            r
            for r in asyncio.run(read_topic(bootstrap, LINKED.name, lambda rs: False, 5))
            if (r["value"].get("event") or {}).get("event_id") == events[1]["event_id"]
        ]
        worker.stop()

        skipped = ChildMessage(
            kind=ChildMessageKind.event,
            child_id=second["value"]["child_id"],
            at=datetime.now(UTC),
            link_note=second["value"]["link_note"],
            event=parse_event(events[2]),
        )
        partition = second["partition"]
        offset = asyncio.run(_put_linked(bootstrap, skipped, partition))
        tp = TopicPartition(LINKED.name, partition)
        asyncio.run(_commit_past(bootstrap, offset, tp, APP_ID))  # as faust's skip would

        worker.start()
        assert publish(bootstrap, write(tmp_path / "b.jsonl", events[3:])).returncode == 0
        records = _alerts_until(bootstrap, events[2]["event_id"], events[3]["event_id"])
    finally:
        worker.stop()
    assert alerts_for(records, events[2]["event_id"]) == ["CUMULATIVE_CONCERNS"], worker.tail()
    [last] = [r["value"] for r in records if r["value"]["triggered_by"][0] == events[3]["event_id"]]
    assert last["rule_id"] == "CUMULATIVE_NEGLECT"
    assert events[2]["event_id"] in last["triggered_by"]  # the fourth counts the third
    assert last["context"]["risk_events_365_days"] == 4
    [warning] = [
        line
        for line in map(json.loads, worker.log.read_text().splitlines())
        if line["msg"].startswith("offsets never handed to the stage")
    ]
    gap = (warning["stage"], warning["topic"], warning["partition"], warning["offset"])
    assert gap == ("child", LINKED.name, partition, offset)
