"""Agent `ingest`: every inbound topic -> accepted events, or a rejection with reasons.

Thin by design: bytes in, `ingest_wire` and `ingest_step` (plain functions) decide,
records out. It reads raw bytes and decodes inside the agent, because faust's own value
decoding would skip an undecodable message silently (on_decode_error).

It takes messages in batches (`MASH_BATCH_MAX`, `MASH_BATCH_WITHIN_SECONDS`): every
message of the batch is decided, then all their records are sent at once and awaited
together, and only then are the messages acknowledged (faust commits an offset only
once its message is acknowledged). A crash mid-batch re-reads the batch; the records
it re-sends carry the same ids (docs/notes/faust-kafka.md).

It reports each message to the metrics (topic and sending agency in; the outcome) and
logs event ids and reason field names, never a value.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import faust

from agents.guard import StopTheWorker, batches, failure, report
from broker.calendar.clock import Clock, wall_time
from broker.ops.metrics import NO_OBSERVER, StageObserver
from broker.pipeline.ingest import Accepted, Decoder, Refused, ingest_wire
from broker.pipeline.sink import Outgoing, Sink
from broker.pipeline.steps import ingest_step
from broker.topics import INBOUND_TOPICS

log = logging.getLogger(__name__)


def decide_inbound(
    raw: bytes, topic: str, decoder: Decoder, clock: Clock, observer: StageObserver
) -> tuple[str, list[Outgoing]]:
    """One inbound message's outcome and records. Never raises on bad input."""
    result = ingest_wire(raw, topic, decoder, wall_now=wall_time(clock))
    if isinstance(result, Accepted):
        observer.event_in(topic, result.event.source.agency)
    else:
        observer.event_in(topic, result.source_agency)
    step = ingest_step(result, clock.now())
    recorded_at = result.event.recorded_at if isinstance(result, Accepted) else None
    if isinstance(result, Refused):
        reasons = sorted({p.field for p in result.problems})
        log.info(
            "event rejected",
            extra={"topic": topic, "event_id": result.event_id, "reasons": reasons},
        )
    return step.outcome, [(record, recorded_at) for record in step.records]


async def handle_inbound_batch(
    messages: Sequence[tuple[bytes, str]],
    decoder: Decoder,
    sink: Sink,
    clock: Clock,
    *,
    observer: StageObserver = NO_OBSERVER,
) -> list[str]:
    """A batch of inbound messages: every record sent, and durable, before it returns.

    A broker fault on one message keeps that message on the rejected topic; the rest
    of the batch goes on."""
    outcomes: list[str] = []
    outgoing: list[Outgoing] = []
    for raw, topic in messages:
        try:
            outcome, records = decide_inbound(raw, topic, decoder, clock, observer)
        except Exception as exc:
            outcome, records = "failed", failure(exc, raw, topic, clock)
        outcomes.append(outcome)
        outgoing += records
    await sink.send_all(outgoing)
    report(observer, "ingest", outcomes)
    return outcomes


async def handle_inbound(
    raw: bytes,
    topic: str,
    decoder: Decoder,
    sink: Sink,
    clock: Clock,
    *,
    observer: StageObserver = NO_OBSERVER,
) -> str:
    """One inbound message (a batch of one). Never raises on bad input."""
    [outcome] = await handle_inbound_batch([(raw, topic)], decoder, sink, clock, observer=observer)
    return outcome


def register(
    app: faust.App,
    decoder: Decoder,
    sink: Sink,
    clock: Clock,
    *,
    batch_max: int = 1,
    batch_within: float = 0.01,
    observer: StageObserver = NO_OBSERVER,
) -> Any:
    channel = app.topic(*INBOUND_TOPICS, key_serializer="raw", value_serializer="raw")

    @app.agent(channel, name="ingest", concurrency=1, supervisor_strategy=StopTheWorker)
    async def ingest(stream: Any) -> None:
        async for events in batches(stream, batch_max, batch_within):
            messages = [(e.message.value or b"", e.message.topic) for e in events]
            await handle_inbound_batch(messages, decoder, sink, clock, observer=observer)

    return ingest
