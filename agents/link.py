"""Agent `link`: accepted events -> de-duplicated, linked to a child, re-keyed by child.

It reads `broker.accepted.v1`, which has one partition: linking is a single writer
(docs/identity.md), so two records of one new child can never create two children.
The identity index is in memory and in the `identity` table; `seen-events` and
`held-events` follow the same partition. Each first sighting goes on to
`broker.linked.v1` as a `ChildMessage` keyed by the child's id, so that every event
about one child is processed in order by one worker, however the agencies keyed their
own topics.

broker.accepted.v1 is written only by ingest, from events it validated: they are read
with the codec's trusted decode (`decode_trusted`: built, not validated again).

Batches: the events of a batch are linked one after another (each sees the index as
the ones before it left it, and an event id seen earlier in the batch is a duplicate),
their records are sent together, and only once all are durable are the `identity` and
`seen-events` tables written and the messages acknowledged. A broker fault on one event
sends and stores what came before it, keeps that event on the rejected topic, and
rebuilds the index from its table before going on.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust

from agents.guard import (
    Enter,
    FaultListener,
    StopTheWorker,
    batches,
    failure,
    ignore_fault,
    message_context,
    no_context,
    report,
    telling,
)
from agents.rewind import Rewind
from broker.calendar.clock import BatchClock, Clock, observe
from broker.models.events import Event
from broker.ops.metrics import NO_OBSERVER, StageObserver
from broker.pipeline import dedupe, event_time, offsets
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import Outgoing, Sink
from broker.pipeline.steps import Step, link_step
from broker.topics import ACCEPTED


@dataclass
class _Pending:
    """What a batch has decided and not yet made durable."""

    table: MutableMapping[str, str]
    message_offsets: Sequence[int] = ()
    marked: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[int, Event, Step]] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)

    @property
    def seen(self) -> ChainMap[str, str]:
        """`seen-events` as this batch sees it: the table, and the batch's own."""
        return ChainMap(self.marked, self.table)

    def add(self, position: int, event: Event, step: Step) -> None:
        self.steps.append((position, event, step))
        self.outgoing += [(record, event.recorded_at) for record in step.records]
        if step.mark_seen:
            dedupe.mark_seen(self.marked, event, step.seen_at or event.recorded_at)

    def _index_as_of(self) -> int | None:
        """The offset of the last message the index has linked: every state written at
        a flush is the index's after the whole of what is pending, not after its own
        event (None outside Kafka)."""
        if not self.message_offsets or not self.steps:
            return None
        return self.message_offsets[self.steps[-1][0]]

    async def flush(self, sink: Sink, identity: IdentityStore, enter: Enter) -> None:
        try:
            await sink.send_all(self.outgoing)
        except BaseException:
            identity.invalidate()  # the in-memory index is ahead of its table
            raise
        at = self._index_as_of()
        for position, event, step in self.steps:
            enter(position)
            identity.persist(event, step, at)
            if step.mark_seen:  # only once its outputs are durable
                self.table[event.event_id] = self.marked[event.event_id]
        self.marked.clear()
        self.steps.clear()
        self.outgoing.clear()


async def handle_accepted_batch(
    raws: Sequence[bytes],
    decode: Callable[[bytes], Event],
    *,
    seen: MutableMapping[str, str],
    identity: IdentityStore,
    held: MutableMapping[str, str],
    sink: Sink,
    clock: Clock,
    enter: Enter = no_context,
    observer: StageObserver = NO_OBSERVER,
    sweeper: dedupe.Sweeper | None = None,
    message_offsets: Sequence[int] = (),
) -> list[str]:
    """Link a batch of accepted events, in order; returns each one's outcome.

    `enter(i)` makes message i the current one: faust writes a table only from within
    a message's context (its partition is the changelog's). `message_offsets` are the
    messages' offsets: on the event clock of tests they place the batch in time
    (broker.pipeline.event_time); the next one after them is kept once durable
    (broker.pipeline.offsets)."""
    first_offset = message_offsets[0] if message_offsets else None
    pending = _Pending(seen, message_offsets)
    outcomes: list[str] = []
    linking = event_time.restore(seen, clock, first_offset)  # tests' event clock only
    befores = []
    for position, raw in enumerate(raws):
        enter(position)
        if isinstance(linking, BatchClock):
            befores.append(linking.seen)
        try:
            event = decode(raw)
        except Exception as exc:  # our own topic: a fault, not a sender's mistake
            pending.outgoing += failure(exc, raw, ACCEPTED.name, linking)
            outcomes.append("failed")
            continue
        try:
            observe(linking, event.recorded_at)
            step = link_step(
                event, raw, pending.seen, linking.now(), index=identity.index, held=held
            )
        except Exception as exc:
            await pending.flush(sink, identity, enter)  # what came before is kept
            identity.invalidate()  # the failed step may have changed the index
            pending.outgoing += failure(exc, raw, ACCEPTED.name, linking)
            outcomes.append("failed")
            continue
        pending.add(position, event, step)
        outcomes.append(step.outcome)
    await pending.flush(sink, identity, enter)
    event_time.keep(seen, clock, message_offsets, befores)
    offsets.keep(seen, message_offsets)
    if sweeper is not None and raws:  # ids past the horizon, in the last message's context
        sweeper.maybe(seen, clock.now())
    report(observer, "link", outcomes)
    return outcomes


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
    """One accepted event, already decoded (a batch of one)."""
    [outcome] = await handle_accepted_batch(
        [raw],
        lambda _: event,
        seen=seen,
        identity=identity,
        held=held,
        sink=sink,
        clock=clock,
    )
    return outcome


def register(
    app: faust.App,
    codec: Any,
    tables: Any,
    sink: Sink,
    clock: Clock,
    *,
    batch_max: int = 1,
    batch_within: float = 0.01,
    observer: StageObserver = NO_OBSERVER,
    on_fault: FaultListener = ignore_fault,
) -> Any:
    """`on_fault` hears of an exception that escapes the agent (a storage fault stops
    the worker: broker/ops/state_dir.py) before faust restarts it."""
    channel = app.topic(
        ACCEPTED.name, key_serializer="raw", value_serializer="raw", partitions=ACCEPTED.partitions
    )
    identity = IdentityStore(tables.identity)

    sweeper = dedupe.Sweeper()

    async def forget_index(sender: Any, revoked: Any, **kwargs: Any) -> None:
        identity.invalidate()
        sweeper.forget()  # the table may be restored with other ids

    app.on_partitions_revoked.connect(forget_index)  # type: ignore[arg-type]

    rewind = Rewind(app, lambda partition: offsets.expected(tables.seen_events), "link")

    @app.agent(channel, name="link", concurrency=1, supervisor_strategy=StopTheWorker)
    async def link(stream: Any) -> None:
        with telling(on_fault):
            async for batch in batches(stream, batch_max, batch_within):
                events = await rewind.follow_on(batch)
                if not events:
                    continue  # acknowledged, and read again from where the gap began
                await handle_accepted_batch(
                    [e.message.value or b"" for e in events],
                    codec.decode_trusted,  # only ingest writes it, from validated events
                    enter=message_context(events),
                    seen=tables.seen_events,
                    identity=identity,
                    held=tables.held_events,
                    sink=sink,
                    clock=clock,
                    observer=observer,
                    sweeper=sweeper,
                    message_offsets=[e.message.offset for e in events],
                )

    return link
