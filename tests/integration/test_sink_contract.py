"""One contract, two adapters: what the in-memory sink promises, Kafka keeps.

The agents' tests use `MemorySink`; this test holds `KafkaSink` (faust's producer, the
codec, awaited acknowledgement) to the same contract: every record sent is readable
afterwards, in order, with its key, decoded to an equal value.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
import pytest
import pytest_asyncio

from broker.app import create_app
from broker.kafka.sink import KafkaSink
from broker.models.outputs import Feedback, ProblemOut
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import MemorySink
from broker.settings import Settings
from tests.integration.worker import CODEC, read_topic


def records(topic: str) -> list[OutRecord]:
    now = datetime(2026, 5, 19, 12, tzinfo=UTC)
    return [
        OutRecord(
            topic,
            f"key-{i}",
            Feedback(
                feedback_id=f"fb-{i}",
                event_id=f"ev-{i}",
                to_agency="police",
                kind="language",
                problems=[ProblemOut(field="narrative", message=f"phrase {i}")],
                created_at=now,
            ),
        )
        for i in range(3)
    ]


async def read_back_memory(sink: MemorySink, topic: str) -> list[tuple[str | None, Any]]:
    return [(r.key, r.value) for r in sink.on(topic)]


@pytest_asyncio.fixture
async def kafka_sink(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[KafkaSink]:
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        app_id=f"sink-contract-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path,
        store="memory",
        worker_web_port=0,
    )
    app: faust.App = create_app(settings)
    await app.producer.start()
    try:
        yield KafkaSink(app, CODEC)
    finally:
        await app.producer.stop()


@pytest.mark.asyncio
async def test_memory_sink_keeps_every_record_in_order() -> None:
    sink = MemorySink()
    sent = records("t")
    for record in sent:
        await sink.send(record)
    assert await read_back_memory(sink, "t") == [(r.key, r.value) for r in sent]


@pytest.mark.asyncio
async def test_kafka_sink_keeps_the_same_contract(
    kafka_sink: KafkaSink, new_topics: Any, kafka_bootstrap: str
) -> None:
    [topic] = await new_topics("sink")
    sent = records(topic)
    for record in sent:
        await kafka_sink.send(record)  # returns once acknowledged

    def enough(got: list[dict[str, Any]]) -> bool:
        return len(got) >= len(sent)

    got = await read_topic(kafka_bootstrap, topic, enough, timeout=30)
    assert [(g["key"].decode(), CODEC.decode(g["raw"])) for g in got] == [
        (r.key, r.value) for r in sent
    ]


@pytest.mark.asyncio
async def test_a_batch_keeps_the_contract_in_both_adapters(
    kafka_sink: KafkaSink, new_topics: Any, kafka_bootstrap: str
) -> None:
    """`send_all` hands a batch over without awaiting each record; it returns once all
    are acknowledged, and they are read back in the order given, in both adapters."""
    [topic] = await new_topics("sink-batch")
    sent = [r for _ in range(40) for r in records(topic)]
    memory = MemorySink()
    await memory.send_all([(r, None) for r in sent])
    await kafka_sink.send_all([(r, None) for r in sent])  # returns once all are durable

    got = await read_topic(kafka_bootstrap, topic, lambda g: len(g) >= len(sent), timeout=30)
    from_kafka = [(g["key"].decode(), CODEC.decode(g["raw"])) for g in got]
    assert from_kafka == await read_back_memory(memory, topic) == [(r.key, r.value) for r in sent]
