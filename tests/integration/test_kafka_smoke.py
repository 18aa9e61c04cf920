"""The stack really works against the pinned Kafka (4.3.1): topics, aiokafka, faust.

These are the facts every other integration test stands on: compacted topics are really
compacted, a record comes back as it was sent, a consumer group resumes from its commit,
and a faust App consumes, forwards and keeps a changelogged table.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from broker.errors import ConfigurationError
from broker.kafka import local as kafka_local
from broker.kafka.admin import create_topics, describe_topic_configs
from broker.kafka.jars import KAFKA_VERSION
from broker.kafka.local import LocalKafka
from broker.settings import Settings
from broker.topics import TopicSpec, all_topics
from tests.integration.conftest import DECLARED_PARTITIONS, JAR_CACHE, TopicFactory, free_ports

TIMEOUT = 30.0


async def _consume(
    bootstrap: str, topic: str, count: int, *, commit: bool = False, **options: Any
) -> list[Any]:
    """Read `count` records from the start (or the group's commit), committing if asked."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **options,
    )
    await consumer.start()
    try:
        records = [await asyncio.wait_for(consumer.getone(), TIMEOUT) for _ in range(count)]
        if commit:
            await consumer.commit()
        return records
    finally:
        await consumer.stop()


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def test_local_kafka_status(kafka: LocalKafka) -> None:
    st = kafka.status()
    assert st["running"] is True
    assert st["reachable"] is True
    assert st["version"] == KAFKA_VERSION == "4.3.1"
    assert (kafka.log_dirs / "meta.properties").exists()


@pytest.mark.asyncio
async def test_topic_creation_is_idempotent_and_compaction_is_set(kafka_bootstrap: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    specs = [TopicSpec(f"plain-{suffix}"), TopicSpec(f"compact-{suffix}", compacted=True)]

    created = await create_topics(kafka_bootstrap, specs, 3, 1)
    again = await create_topics(kafka_bootstrap, specs, 3, 1)

    assert sorted(created) == sorted(s.name for s in specs)
    assert again == []
    configs = await describe_topic_configs(kafka_bootstrap, [s.name for s in specs])
    assert configs[f"compact-{suffix}"]["cleanup.policy"] == "compact"
    assert configs[f"plain-{suffix}"]["cleanup.policy"] == "delete"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([s.name for s in specs])
    finally:
        await admin.close()
    assert {len(t["partitions"]) for t in described} == {3}


@pytest.mark.asyncio
async def test_every_declared_topic_can_be_created(kafka_bootstrap: str) -> None:
    """The names in broker/topics.py are legal Kafka names, and compaction follows the table."""
    specs = all_topics()
    await create_topics(kafka_bootstrap, specs, DECLARED_PARTITIONS, 1)
    configs = await describe_topic_configs(kafka_bootstrap, [s.name for s in specs])
    for spec in specs:
        expected = "compact" if spec.compacted else "delete"
        assert configs[spec.name]["cleanup.policy"] == expected, spec.name


@pytest.mark.asyncio
async def test_aiokafka_round_trip(kafka_bootstrap: str, new_topics: TopicFactory) -> None:
    (topic,) = await new_topics("roundtrip")
    await _produce(kafka_bootstrap, topic, [(b"k1", b"v1"), (b"k2", b"v2")])

    got = await _consume(kafka_bootstrap, topic, 2, group_id=None)

    assert [(m.key, m.value) for m in got] == [(b"k1", b"v1"), (b"k2", b"v2")]
    assert [m.offset for m in got] == [0, 1]


@pytest.mark.asyncio
async def test_consumer_group_resumes_from_committed_offset(
    kafka_bootstrap: str, new_topics: TopicFactory
) -> None:
    (topic,) = await new_topics("resume")
    group = f"resume-{uuid.uuid4().hex[:8]}"
    await _produce(kafka_bootstrap, topic, [(b"k", f"v{i}".encode()) for i in range(4)])

    first = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await first.start()
    try:
        read = [await asyncio.wait_for(first.getone(), TIMEOUT) for _ in range(2)]
        await first.commit()
    finally:
        await first.stop()
    assert [m.value for m in read] == [b"v0", b"v1"]

    rest = await _consume(kafka_bootstrap, topic, 2, group_id=group)
    assert [m.value for m in rest] == [b"v2", b"v3"]
    assert rest[0].offset == 2


@pytest.mark.asyncio
async def test_faust_app_forwards_and_keeps_a_changelogged_table(
    kafka_bootstrap: str, new_topics: TopicFactory, tmp_path: Path
) -> None:
    source_name, sink_name = await new_topics("faust-in", "faust-out")
    app_id = f"smoke-{uuid.uuid4().hex[:8]}"
    app = faust.App(
        app_id,
        broker=f"kafka://{kafka_bootstrap}",
        store="memory://",
        datadir=str(tmp_path),
        web_enabled=False,
        autodiscover=False,
        topic_allow_declare=True,
        topic_partitions=1,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(source_name, key_serializer="raw", value_serializer="raw")
    sink = app.topic(sink_name, key_serializer="raw", value_serializer="raw")
    seen = app.Table("seen", default=int, partitions=1)

    @app.agent(source, concurrency=1)
    async def forward(stream: faust.StreamT[bytes]) -> None:
        async for key, value in stream.items():
            seen[key.decode()] += 1
            await sink.send(key=key, value=b"forwarded:" + value)

    app.finalize()
    await app.start()
    try:
        await asyncio.wait_for(_assigned(app), TIMEOUT)
        await _produce(kafka_bootstrap, source_name, [(b"child-1", b"hello")])
        (out,) = await _consume(kafka_bootstrap, sink_name, 1, group_id=None)
        assert (out.key, out.value) == (b"child-1", b"forwarded:hello")
        assert seen["child-1"] == 1
    finally:
        await app.stop()

    changelog = f"{app_id}-seen-changelog"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert changelog in await admin.list_topics()
    finally:
        await admin.close()
    (entry,) = await _consume(kafka_bootstrap, changelog, 1, group_id=None)
    assert entry.key == b'"child-1"'
    assert entry.value == b"1"


async def _assigned(app: faust.App) -> None:
    """Wait until the agent owns its partition, or the record races the subscription."""
    while not app.consumer.assignment():
        await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_records_and_commits_survive_a_restart(
    kafka: LocalKafka, new_topics: TopicFactory
) -> None:
    """Stop and start the session's Kafka from inside a test: data and offsets persist."""
    (topic,) = await new_topics("restart")
    group = f"restart-{uuid.uuid4().hex[:8]}"
    await _produce(kafka.bootstrap, topic, [(b"k", b"before-0"), (b"k", b"before-1")])
    (first,) = await _consume(kafka.bootstrap, topic, 1, group_id=group, commit=True)
    assert first.value == b"before-0"

    kafka.stop()
    assert not kafka.is_running()
    assert kafka.status()["reachable"] is False
    kafka.start()

    assert kafka.status()["reachable"] is True
    (resumed,) = await _consume(kafka.bootstrap, topic, 1, group_id=group)
    assert resumed.value == b"before-1"


def test_cli_entry_points_up_status_down(tmp_path: Path) -> None:
    """What `mash-broker kafka up|status|down` calls, on a second Kafka of its own."""
    (tmp_path / "jars").symlink_to(JAR_CACHE, target_is_directory=True)
    port, controller_port = free_ports(2)
    settings = Settings(
        local_kafka_dir=tmp_path,
        local_kafka_port=port,
        local_kafka_controller_port=controller_port,
        topic_partitions=2,
    )
    try:
        first = kafka_local.up(settings)
        assert "started" in first
        assert f"{len(all_topics())} topic(s) created" in first
        assert "running" in kafka_local.status(settings)
        assert "reachable" in kafka_local.status(settings)
        again = kafka_local.up(settings)
        assert "already running" in again
        assert "0 topic(s) created" in again
    finally:
        stopped = kafka_local.down(settings)
    assert "stopped" in stopped
    assert "not running" in kafka_local.status(settings)
    assert kafka_local.down(settings) == "Kafka is not running"


@pytest.mark.asyncio
async def test_a_fixed_partition_count_is_checked_on_an_existing_topic(
    kafka_bootstrap: str, new_topics: TopicFactory
) -> None:
    """The link stage needs broker.accepted.v1 on one partition; a cluster that has it on
    more (created by an older release, say) is refused at start with what to do."""
    [name] = await new_topics("accepted-like", partitions=3)
    with pytest.raises(ConfigurationError, match="has 3 partitions; the broker needs exactly 1"):
        await create_topics(kafka_bootstrap, [TopicSpec(name, partitions=1)], 3, 1)
    assert await create_topics(kafka_bootstrap, [TopicSpec(name, partitions=3)], 1, 1) == []
