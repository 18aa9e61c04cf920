"""bench.live_linkloop measures the real link stage: on the real Kafka, its outputs are
replay's.

The loop (a batched aiokafka consume -> link -> produce loop, with and without Kafka
transactions) is fed a handful of scenario events on its own broker.accepted.v1, as
ingest writes them: a held event and the person's decision that merges it, a
contradicting NHS number (an identity review), a misspelt name that links, twins kept
apart, an exact duplicate and an event id re-used for other content (a conflict). What
a read_committed consumer then reads from its output topics must be, topic by topic and
in order, byte for byte what replay's `Engine.link` publishes for the same events, and
the seen-events, held-events and identity index it keeps in its compacted state topic
must be replay's (the index rebuilt from the topic as a restarted loop would), and the
group's committed offset must be past the last event.
Batches of three, so several transactions commit and a duplicate meets its original
both within a batch and across batches.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.link_batch import STATE_TOPIC
from bench.live_linkloop import MODES, link_loop
from broker.calendar.clock import ManualClock
from broker.identity import IdentityIndex
from broker.kafka.admin import create_topics
from broker.models.events import Event
from broker.pipeline.engine import Engine
from broker.pipeline.ingest import Accepted
from broker.topics import ACCEPTED, TopicSpec
from tests.identity_scenarios import scenario_events
from tests.integration.worker import CODEC

Wired = tuple[str, bytes | None, bytes | None]


def replayed(events: list[Event], raws: list[bytes]) -> tuple[list[Wired], Engine]:
    """What replay's link stage publishes for the events, encoded as the sink does."""
    engine = Engine(ManualClock())
    wired: list[Wired] = []
    for event, raw in zip(events, raws, strict=True):
        accepted = Accepted(event, raw)
        engine.advance_for(accepted)
        for r in engine.link(accepted):
            key = r.key.encode() if r.key is not None else None
            wired.append((r.topic, key, CODEC.encode(r.value, topic=r.topic)))
    return wired, engine


async def _publish(bootstrap: str, topic: str, events: list[Event], raws: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event, raw in zip(events, raws, strict=True):
            await producer.send_and_wait(topic, raw, key=event.event_id.encode())
    finally:
        await producer.stop()


async def _read(bootstrap: str, topics: list[str]) -> list[Wired]:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[Wired] = []
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            for messages in batch.values():
                found += [(m.topic, m.key, m.value) for m in messages]
    finally:
        await consumer.stop()
    return found


async def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        offset: int | None = await consumer.committed(TopicPartition(topic, 0))
        return offset
    finally:
        await consumer.stop()


def _by_topic(records: list[Wired], prefix: str = "") -> dict[str, list[Wired]]:
    found: dict[str, list[Wired]] = {}
    for topic, key, value in records:
        name = topic.removeprefix(prefix)
        found.setdefault(name, []).append((name, key, value))
    return found


def _latest(state: list[Wired], kind: str) -> dict[str, str]:
    """The compacted topic's view: the last value per key of `kind`, tombstones gone."""
    latest: dict[str, bytes | None] = {}
    for _, key, value in state:
        if key is not None and key.startswith(f"{kind}:".encode()):
            latest[key.decode().removeprefix(f"{kind}:")] = value
    return {k: v.decode() for k, v in latest.items() if v is not None}


@pytest.mark.parametrize("mode", MODES)
def test_the_loop_publishes_what_replay_links(kafka_bootstrap: str, mode: str) -> None:
    events = scenario_events()
    raws = [CODEC.encode(e, topic=ACCEPTED.name) for e in events]
    expected, engine = replayed(events, raws)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    outputs = sorted({topic for topic, _, _ in expected})
    assert {"broker.linked.v1", "mash.alert.v1", "broker.rejected.v1"} <= set(outputs)
    specs = [TopicSpec(prefix + t) for t in [ACCEPTED.name, *outputs]]
    specs.append(TopicSpec(prefix + STATE_TOPIC, compacted=True))
    asyncio.run(create_topics(kafka_bootstrap, specs, 1, 1))
    asyncio.run(_publish(kafka_bootstrap, prefix + ACCEPTED.name, events, raws))

    group = f"linkloop-{uuid.uuid4().hex[:6]}"
    figures = asyncio.run(
        link_loop(
            kafka_bootstrap, len(events), group, mode=mode, batch=3, prefix=prefix, timeout=60
        )
    )
    assert figures["records"] == len(events)
    assert figures["batches"] >= 4
    committed = asyncio.run(_committed(kafka_bootstrap, group, prefix + ACCEPTED.name))
    assert committed == len(events)  # the transactions' offsets (or the commits) landed

    read = asyncio.run(_read(kafka_bootstrap, [prefix + t for t in [*outputs, STATE_TOPIC]]))
    found = _by_topic(read, prefix)
    state = found.pop(STATE_TOPIC)
    assert found == _by_topic(expected)
    assert _latest(state, "seen") == engine.state.seen
    assert _latest(state, "held") == engine.state.held
    restored = IdentityIndex()  # as a restarted loop would rebuild it (IdentityStore)
    for text in _latest(state, "identity").values():
        restored.from_state(json.loads(text))
    index = engine.state.index
    assert sorted(restored.child_ids()) == sorted(index.child_ids())
    assert all(restored.to_state(c) == index.to_state(c) for c in index.child_ids())
