"""What the child loop sends in a partition's transaction (broker/kafka/child_loop.py),
without Kafka: the agent's own step over the tables in memory, its records, and the
tables' changes as records of the faust changelogs, the partition's next offset among
them. A message delivered again after the state was kept is recognised and gives
nothing, as with the agent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import TopicPartition

from agents import child
from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.config.partnership import load_config
from broker.kafka.child_loop import ChildLoop, Gathered
from broker.models.events import parse_event
from broker.models.internal import ChildMessage
from broker.pipeline import offsets
from broker.pipeline.child_store import ChildStore
from broker.settings import Settings
from broker.topics import LINKED
from tests.unit.test_ingest import GOOD

CLOCK = ManualClock(datetime(2026, 5, 19, 12, tzinfo=UTC))
CODEC = AvroCodec(Settings().schemas_dir)
TP = TopicPartition(LINKED.name, 2)


@dataclass
class Message:
    """As aiokafka hands a record: its value and offset."""

    value: bytes
    offset: int


def _loop() -> ChildLoop:
    config = load_config()

    def decode(raw: bytes) -> ChildMessage:
        return CODEC.decode_trusted_as(raw, ChildMessage)  # type: ignore[no-any-return]

    async def handle(
        items: Any, message_offsets: Any, store: ChildStore, out: Gathered
    ) -> list[str]:
        return await child.handle_child_batch(
            items, decode, store, out, config=config, clock=CLOCK, message_offsets=message_offsets
        )

    return ChildLoop(handle, CODEC, bootstrap="unused", app_id="app")


def _messages(first_offset: int) -> list[Message]:
    events = [parse_event({**GOOD, "event_id": f"pol-{i}", "vist_id": f"V-{i}"}) for i in range(2)]
    return [
        Message(
            CODEC.encode(
                ChildMessage(kind="event", child_id="child-1", at=CLOCK.now(), event=e),
                topic=LINKED.name,
            ),
            first_offset + n,
        )
        for n, e in enumerate(events)
    ]


@pytest.mark.asyncio
async def test_a_partitions_batch_carries_its_records_and_its_tables_changes() -> None:
    loop = _loop()
    batch = await loop._step(TP, _messages(40))
    assert batch.outgoing  # the rules' records: alerts, shares, audits
    assert len(batch.wired) == len(batch.outgoing)
    by_topic = {(topic, key): value for topic, key, value in batch.state}
    picture = by_topic[("app-child-pictures-changelog", b'"child-1"')]
    assert picture is not None
    assert json.loads(picture)["last_message"] == {"partition": 2, "offset": 41}
    next_key = json.dumps(offsets.next_offset_key(2)).encode()
    assert by_topic[("app-child-timers-changelog", next_key)] == b'"42"'
    assert batch.next_offset == 42
    assert loop.store.next_offset(2) == 42
    assert batch.outcomes == ["event", "event"]  # reported once the transaction commits


@pytest.mark.asyncio
async def test_a_batch_delivered_again_gives_nothing() -> None:
    loop = _loop()
    await loop._step(TP, _messages(40))
    again = await loop._step(TP, _messages(40))  # a restart from an older offset
    assert (again.outgoing, again.state) == ([], [])
    assert again.outcomes == [child.DELIVERED_AGAIN] * 2
