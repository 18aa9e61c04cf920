"""Agent `ingest`: every inbound topic -> accepted events, or a rejection with reasons.

Thin by design: bytes in, `ingest_wire` and `ingest_step` (plain functions) decide,
records out. It reads raw bytes and decodes inside the agent, because faust's own value
decoding would skip an undecodable message silently (on_decode_error).

It reports each message to the metrics (topic and sending agency in; the outcome) and
logs event ids and reason field names, never a value.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents.guard import guarded
from broker.calendar.clock import Clock
from broker.ops.metrics import NO_OBSERVER, StageObserver
from broker.pipeline.ingest import Accepted, Decoder, Refused, ingest_wire
from broker.pipeline.sink import Sink
from broker.pipeline.steps import ingest_step
from broker.topics import INBOUND_TOPICS

log = logging.getLogger(__name__)


async def handle_inbound(
    raw: bytes,
    topic: str,
    decoder: Decoder,
    sink: Sink,
    clock: Clock,
    *,
    observer: StageObserver = NO_OBSERVER,
) -> str:
    """One inbound message. Never raises on bad input; returns what became of it."""
    result = ingest_wire(raw, topic, decoder)
    if isinstance(result, Accepted):
        observer.event_in(topic, result.event.source.agency)
    else:
        observer.event_in(topic, result.source_agency)
    step = ingest_step(result, clock.now())
    recorded_at = result.event.recorded_at if isinstance(result, Accepted) else None
    for record in step.records:
        await sink.send(record, recorded_at=recorded_at)
    if isinstance(result, Refused):
        reasons = sorted({p.field for p in result.problems})
        log.info(
            "event rejected",
            extra={"topic": topic, "event_id": result.event_id, "reasons": reasons},
        )
    return step.outcome


def register(
    app: faust.App,
    decoder: Decoder,
    sink: Sink,
    clock: Clock,
    *,
    observer: StageObserver = NO_OBSERVER,
) -> Any:
    channel = app.topic(*INBOUND_TOPICS, key_serializer="raw", value_serializer="raw")

    @app.agent(channel, name="ingest", concurrency=1)
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            raw, topic = event.message.value or b"", event.message.topic

            async def handle(raw: bytes = raw, topic: str = topic) -> str:
                return await handle_inbound(raw, topic, decoder, sink, clock, observer=observer)

            observer.outcome("ingest", await guarded(handle, raw, topic, sink, clock))

    return ingest
