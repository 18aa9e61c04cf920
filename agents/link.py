"""Agent `link`: accepted events -> de-duplicated, linked to a child, re-keyed by child.

It reads `broker.accepted.v1` (keyed by event_id, so the `seen_events` table is
co-partitioned with it) and republishes each first sighting on `broker.linked.v1` keyed
by the child's id, so that every event about one child is processed in order by one
worker, however the agencies keyed their own topics. Each outcome (linked, duplicate,
conflict, failed) is reported to the metrics.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import faust

from agents.guard import guarded
from broker.clock import Clock
from broker.metrics import NO_OBSERVER, StageObserver
from broker.models.events import Event
from broker.pipeline import dedupe
from broker.pipeline.steps import link_step
from broker.sink import Sink
from broker.topics import ACCEPTED


async def handle_accepted(
    event: Event, raw: bytes, seen: MutableMapping[str, str], sink: Sink, clock: Clock
) -> str:
    step = link_step(event, raw, seen, clock.now())
    for record in step.records:
        await sink.send(record, recorded_at=event.recorded_at)
    if step.mark_seen:
        dedupe.mark_seen(seen, event)  # only once its outputs are durable
    return step.outcome


def register(
    app: faust.App,
    codec: Any,
    seen: MutableMapping[str, str],
    sink: Sink,
    clock: Clock,
    *,
    observer: StageObserver = NO_OBSERVER,
) -> Any:
    channel = app.topic(ACCEPTED.name, key_serializer="raw", value_serializer="raw")

    @app.agent(channel, name="link", concurrency=1)
    async def link(stream: Any) -> None:
        async for event in stream.events():
            raw = event.message.value or b""

            async def handle(raw: bytes = raw) -> str:
                return await handle_accepted(codec.decode(raw), raw, seen, sink, clock)

            observer.outcome("link", await guarded(handle, raw, ACCEPTED.name, sink, clock))

    return link
