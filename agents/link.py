"""Agent `link`: accepted events -> de-duplicated, linked to a child, re-keyed by child.

It reads `broker.accepted.v1`, which has one partition: linking is a single writer
(docs/identity.md), so two records of one new child can never create two children.
The identity index is in memory and in the `identity` table; `seen-events` and
`held-events` follow the same partition. Each first sighting goes on to
`broker.linked.v1` as a `ChildMessage` keyed by the child's id, so that every event
about one child is processed in order by one worker, however the agencies keyed their
own topics. State is written only after the records are acknowledged.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import faust

from agents.guard import guarded
from broker.calendar.clock import Clock, observe
from broker.models.events import Event
from broker.ops.metrics import NO_OBSERVER, StageObserver
from broker.pipeline import dedupe
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import Sink
from broker.pipeline.steps import link_step
from broker.topics import ACCEPTED


async def handle_accepted(
    event: Event,
    raw: bytes,
    *,
    seen: MutableMapping[str, str],
    identity: IdentityStore,
    held: MutableMapping[str, str],
    sink: Sink,
    clock: Clock,
) -> str:
    observe(clock, event.recorded_at)
    try:
        step = link_step(event, raw, seen, clock.now(), index=identity.index, held=held)
        for record in step.records:
            await sink.send(record, recorded_at=event.recorded_at)
    except BaseException:
        identity.invalidate()  # the in-memory index may be ahead of its table
        raise
    identity.persist(event, step)
    if step.mark_seen:
        dedupe.mark_seen(seen, event)  # only once its outputs are durable
    return step.outcome


def register(
    app: faust.App,
    codec: Any,
    tables: Any,
    sink: Sink,
    clock: Clock,
    *,
    observer: StageObserver = NO_OBSERVER,
) -> Any:
    channel = app.topic(
        ACCEPTED.name, key_serializer="raw", value_serializer="raw", partitions=ACCEPTED.partitions
    )
    identity = IdentityStore(tables.identity)

    async def forget_index(sender: Any, revoked: Any, **kwargs: Any) -> None:
        identity.invalidate()

    app.on_partitions_revoked.connect(forget_index)  # type: ignore[arg-type]

    @app.agent(channel, name="link", concurrency=1)
    async def link(stream: Any) -> None:
        async for event in stream.events():
            raw = event.message.value or b""

            async def handle(raw: bytes = raw) -> str:
                decoded = codec.decode(raw)
                return await handle_accepted(
                    decoded,
                    raw,
                    seen=tables.seen_events,
                    identity=identity,
                    held=tables.held_events,
                    sink=sink,
                    clock=clock,
                )

            observer.outcome("link", await guarded(handle, raw, ACCEPTED.name, sink, clock))

    return link
