"""The link and child agents read our internal topics with the trusted decode; ingest
validates everything an agency sends.

The codec is the agents' port: a counting codec (the real one, each decode counted) is
given to the real agents, registered on a faust app with in-memory tables and driven
through faust's own test context (no Kafka). broker.accepted.v1 and broker.linked.v1
are written only by our workers from validated models (broker/codec/trusted.py says
why that is safe); an inbound topic is an agency's, so bad input there must still land
on broker.rejected.v1.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from agents import child, ingest, link
from broker import compose
from broker.app import create_app
from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.config.partnership import load_config
from broker.kafka.tables import declare_tables
from broker.models.events import parse_event
from broker.models.internal import ChildMessage
from broker.ops.metrics import Metrics
from broker.pipeline.child_store import ChildStore
from broker.pipeline.sink import MemorySink
from broker.settings import Settings
from broker.topics import ACCEPTED, LINKED, REJECTED
from tests.unit.test_ingest import GOOD

CLOCK = ManualClock(datetime(2026, 5, 19, 12, tzinfo=UTC))


class CountingCodec(AvroCodec):
    """The codec, counting each way of decoding a record (a nested one included)."""

    def __init__(self, schemas_dir: Path) -> None:
        super().__init__(schemas_dir)
        self.calls: Counter[str] = Counter()

    def decode(self, data: bytes) -> BaseModel:
        self.calls["decode"] += 1
        return super().decode(data)

    def decode_trusted(self, data: bytes) -> BaseModel:
        self.calls["decode_trusted"] += 1
        return super().decode_trusted(data)

    def _nested_trusted(self, data: bytes) -> BaseModel:  # a child message's event
        self.calls["decode_trusted"] += 1
        return super()._nested_trusted(data)

    def decode_dict(self, data: bytes) -> dict[str, Any]:
        self.calls["decode_dict"] += 1  # ingest's: every problem reported by parse_event
        return super().decode_dict(data)


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> faust.App:
    """Made in the test's own event loop, which faust then uses (it would open one)."""
    return create_app(Settings(state_dir=tmp_path, store="memory"))


@pytest.fixture
def codec() -> CountingCodec:
    return CountingCodec(Settings().schemas_dir)


def events(n: int) -> list[Any]:
    return [parse_event({**GOOD, "event_id": f"pol-{i}", "vist_id": f"V-{i}"}) for i in range(n)]


@pytest.mark.asyncio
async def test_the_link_agent_reads_accepted_events_trusted(
    app: faust.App, codec: CountingCodec
) -> None:
    sink = MemorySink()
    agent = link.register(app, codec, declare_tables(app), sink, CLOCK)
    async with agent.test_context() as running:
        for event in events(3):
            await running.put(codec.encode(event, topic=ACCEPTED.name), key=event.event_id)
    assert codec.calls == {"decode_trusted": 3}
    assert [r.topic for r in sink.records] == [LINKED.name] * 3


@pytest.mark.asyncio
async def test_the_child_agent_reads_child_messages_trusted(
    app: faust.App, codec: CountingCodec
) -> None:
    tables = declare_tables(app)
    store = ChildStore(tables.pictures, tables.inbox, tables.timers)
    sink = MemorySink()
    config = load_config()
    agent = child.register(
        app, codec, store, sink=sink, clock=CLOCK, config=config, tick_seconds=3600
    )
    messages = [
        ChildMessage(kind="event", child_id="child-1", at=CLOCK.now(), event=event)
        for event in events(2)
    ]
    async with agent.test_context() as running:
        for message in messages:
            await running.put(codec.encode(message, topic=LINKED.name), key=message.child_id)
    assert codec.calls == {"decode_trusted": 4}  # each message and the event inside it
    assert sink.records  # the events were processed: the child's alerts and shares
    assert not sink.on(REJECTED.name)


@pytest.mark.asyncio
async def test_ingest_validates_what_an_agency_sends(codec: CountingCodec) -> None:
    """The handler the ingest agent runs on each batch, with the codec as its decoder."""
    sink = MemorySink()
    bad = codec.encode_dict("police.vist", {**GOOD, "narrative": "a NUL \x00 in it"})
    good = codec.encode(events(1)[0], topic="police.vist.v1")
    messages = [(bad, "police.vist.v1"), (good, "police.vist.v1")]
    assert await ingest.handle_inbound_batch(messages, codec, sink, CLOCK) == [
        "rejected",
        "accepted",
    ]
    assert codec.calls == {"decode_dict": 2}  # read, then validated by parse_event
    assert sink.on(REJECTED.name)


@pytest.mark.asyncio
async def test_the_link_loop_the_worker_builds_reads_accepted_events_trusted(
    app: faust.App, codec: CountingCodec, tmp_path: Path
) -> None:
    """The link loop (MASH_LINK_STAGE=loop) decodes as the faust link agent does: it
    validated every accepted event again until the worker's profile showed it (3.5 s
    of the link stage's 14 s for 19,935 events)."""
    settings = Settings(state_dir=tmp_path, store="memory")
    loop = compose.link_loop(app, settings, codec, CLOCK, Metrics(CollectorRegistry()))
    raws = [codec.encode(event, topic=ACCEPTED.name) for event in events(3)]
    batch = await loop.transform(raws, [0, 1, 2])
    assert codec.calls == {"decode_trusted": 3}
    assert [record.topic for record, _ in batch.outgoing] == [LINKED.name] * 3
