"""Agent `child`: every message about one child -> the rules -> alerts, shares, feedback.

It reads `broker.linked.v1` (keyed by child id) and runs `child_step` (the function
replay runs) over the child's slot in the `child-pictures`, `child-inbox` and
`child-timers` tables; the records are sent before the slot is stored, so none is lost:
a crash between the two re-runs the step, and its records are sent again byte for byte,
with the ids they had (alert ids are deterministic; consumers drop an id they have had).
The child loop (broker/kafka/child_loop.py, the default) writes both in one transaction
and sends each once. Only the link stage and
the ticker write broker.linked.v1, from validated models: its messages are read with
the codec's trusted decode (`decode_trusted_as`: built, not validated again).

Batches: the messages of a batch are stepped in order, each on its child's slot as the
messages before it left it (a child with three events in the batch is loaded once);
all their records are sent together, and only once they are durable are the slots
stored, each partition's next offset kept, and the messages acknowledged. faust can
commit a message its stream skipped around a rebalance: a batch that begins past its
partition's next offset is not handled there, and the consumer reads that partition
again from it (agents.rewind, broker.pipeline.offsets).

Deadlines: faust tables can only be written while processing a message, so the clock
reaches a child as a message too. A timer loop (`ticker`) looks, every
`MASH_TICK_SECONDS`, for children on this worker's partitions whose earliest deadline is
due and sends each a tick on `broker.linked.v1`; the tick is processed in order with
the child's events. A deadline that passed while the worker was down is found at the
first look after it restarts, and fires once. The ticker looks in memory
(`ChildStore.due`), not through the whole table, which is read again after each
rebalance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
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
from agents.rewind import Rewind, closes
from broker.calendar.clock import Clock, SystemClock, tick_bound
from broker.config.partnership import PartnershipConfig
from broker.kafka.gaps import GapProbe
from broker.models.internal import ChildMessage
from broker.ops.metrics import NO_OBSERVER, StageObserver
from broker.picture.model import MessagePosition
from broker.pipeline.child import ChildSlot, child_step, tick
from broker.pipeline.child_store import ChildStore
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import Outgoing, Sink
from broker.topics import LINKED

log = logging.getLogger(__name__)

DELIVERED_AGAIN = "delivered_again"
"""The outcome of a message handled before (`handled_before`): nothing done."""

RESEND_SECONDS = 60.0
"""A tick not yet acted on is sent again after this long (not at every look)."""


async def nothing_to_wait_for() -> None:
    """Tables written in the batch's transaction (the child loop's, tests' dicts)."""


async def handle_child_batch(
    items: Sequence[tuple[bytes, int]],
    decode: Callable[[bytes], ChildMessage],
    store: ChildStore,
    sink: Sink,
    *,
    config: PartnershipConfig,
    clock: Clock,
    enter: Enter = no_context,
    observer: StageObserver = NO_OBSERVER,
    message_offsets: Sequence[int] = (),
    closing: Sequence[bool] = (),
    durable: Callable[[], Awaitable[object]] = nothing_to_wait_for,
) -> list[str]:
    """Step a batch of child messages, in order; returns each one's outcome.

    A broker fault on one message keeps it on the rejected topic and leaves its
    child's slot as the messages before it left it; the rest of the batch goes on.
    `message_offsets` are the messages' offsets: the next one after them, per
    partition, is kept once the batch is durable (broker.pipeline.offsets); `closing`
    says which of them close a link loop transaction (none: no message does).
    `durable` waits until the table writes made so far are acknowledged (the faust
    agent's: its producer's flush; the child loop's tables are written in its
    transaction, and need no wait): ChildStore.save_picture has why."""
    slots: dict[str, tuple[ChildSlot, ChildSlot, int]] = {}
    last: dict[str, int] = {}  # the child's last message in the batch: its context
    outgoing: list[Outgoing] = []
    outcomes: list[str] = []
    for position, (raw, partition) in enumerate(items):
        enter(position)  # a table is read from the current message's partition only
        try:
            message = decode(raw)
            child_id = message.child_id
            if child_id in slots:
                before, current, _ = slots[child_id]
            else:
                before = current = store.load(child_id)
            if message_offsets and handled_before(current, partition, message_offsets[position]):
                outcomes.append(DELIVERED_AGAIN)
                if child_id not in slots:  # saved unchanged: mends what a kill left out
                    slots[child_id] = (current, current, partition)
                    last[child_id] = position
                continue
            result = child_step(current, message, config)
        except Exception as exc:
            outgoing += failure(exc, raw, LINKED.name, clock)
            outcomes.append("failed")
            continue
        slots[child_id] = (before, result.slot, partition)
        last[child_id] = position
        recorded_at = message.event.recorded_at if message.event is not None else None
        outgoing += [(record, recorded_at) for record in result.records]
        outcomes.append(message.kind.value)
    await sink.send_all(outgoing)
    held = False
    at: dict[str, MessagePosition | None] = {}  # none: a batch from outside faust (tests)
    for child_id, (before, after, partition) in slots.items():
        enter(last[child_id])
        if message_offsets:
            offset = message_offsets[last[child_id]]
            at[child_id] = MessagePosition(partition=partition, offset=offset)
        held = store.save_held(child_id, before, after, partition, at.get(child_id)) or held
    if held:  # a merge under way: its inbox durable before the pictures that vouch for it
        await durable()
    for child_id, (before, after, _) in slots.items():
        enter(last[child_id])
        store.save_picture(child_id, before, after, at.get(child_id))
    _keep_offsets(items, message_offsets, closing, store, enter)
    report(observer, "child", outcomes)
    return outcomes


def handled_before(slot: ChildSlot, partition: int, offset: int) -> bool:
    """Whether the message at `offset` of `partition` was handled before the child's slot
    was last stored (its records durable then): Kafka delivering it again, from a
    committed offset that trails (a restart, a rebalance). The picture's own record says
    so (`ChildPicture.last_message`), whatever `applied` still remembers: `bench.chaos
    --seed 2 --link-stage loop` had faust's committed offset minutes behind, and events
    older than the picture's last `FORGOTTEN_KEPT` forgotten ids applied a second time."""
    seen = slot.picture.last_message if slot.picture is not None else None
    return seen is not None and seen.partition == partition and offset <= seen.offset


def _keep_offsets(
    items: Sequence[tuple[bytes, int]],
    message_offsets: Sequence[int],
    closing: Sequence[bool],
    store: ChildStore,
    enter: Enter,
) -> None:
    """Each partition's next offset, written in the context of its last message (its
    partition is the changelog's). No offsets: a batch from outside faust (tests)."""
    if not message_offsets:
        return
    flags = closing or [False] * len(message_offsets)
    handled: dict[int, tuple[list[int], list[bool]]] = {}
    last: dict[int, int] = {}
    for position, ((_, partition), offset, flag) in enumerate(
        zip(items, message_offsets, flags, strict=True)
    ):
        found, closed = handled.setdefault(partition, ([], []))
        found.append(offset)
        closed.append(flag)
        last[partition] = position
    for partition, (found, closed) in handled.items():
        enter(last[partition])
        store.keep_offsets(partition, found, closed)


async def handle_child(
    message: ChildMessage, partition: int, store: ChildStore, sink: Sink, config: PartnershipConfig
) -> str:
    """One child message, already decoded (a batch of one)."""
    [outcome] = await handle_child_batch(
        [(b"", partition)], lambda _: message, store, sink, config=config, clock=SystemClock()
    )
    return outcome


class Ticker:
    """Finds the children with a deadline due and sends each one tick."""

    def __init__(self, store: ChildStore, sink: Sink, clock: Clock) -> None:
        self.store = store
        self.sink = sink
        self.clock = clock
        self._sent: dict[tuple[str, datetime, int], float] = {}

    async def run_once(self, partitions: set[int]) -> int:
        at, inclusive = tick_bound(self.clock)
        sent = 0
        now = time.monotonic()
        for due in self.store.due(at, inclusive, partitions):
            key = (due.child_id, due.due, due.version)  # a new deadline at the same time:
            # another tick (bench.chaos found one fired only after RESEND_SECONDS)
            if now - self._sent.get(key, -RESEND_SECONDS) < RESEND_SECONDS:
                continue
            message = tick(due.child_id, at, inclusive=inclusive)
            await self.sink.send(OutRecord(LINKED.name, due.child_id, message))
            self._sent[key] = now
            sent += 1
        self._sent = {k: v for k, v in self._sent.items() if now - v < RESEND_SECONDS}
        return sent


def owned_partitions(app: Any) -> set[int]:
    """The partitions of broker.linked.v1 this worker processes (not its standbys)."""
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == LINKED.name}


def register(
    app: faust.App,
    codec: Any,
    store: ChildStore,
    *,
    sink: Sink,
    clock: Clock,
    config: PartnershipConfig,
    tick_seconds: float,
    batch_max: int = 1,
    batch_within: float = 0.01,
    observer: StageObserver = NO_OBSERVER,
    on_fault: FaultListener = ignore_fault,
    gap_probe: GapProbe | None = None,
) -> Any:
    """`on_fault` hears of an exception that escapes the agent (a storage fault stops
    the worker: broker/ops/state_dir.py) before faust restarts it. `gap_probe`: when
    broker.linked.v1 is written in transactions (the link loop), it tells a marker's
    offset from a skipped message (agents.rewind)."""
    channel = app.topic(LINKED.name, key_serializer="raw", value_serializer="raw")
    ticker = Ticker(store, sink, clock)
    rewind = Rewind(app, store.next_position, "child", gap_probe)

    async def forget_dues(sender: Any, *args: Any, **kwargs: Any) -> None:
        store.forget()  # the tables are recovered anew: read them again

    for signal in (app.on_partitions_revoked, app.on_partitions_assigned):
        signal.connect(forget_dues)  # type: ignore[arg-type]
    app.on_rebalance_complete.connect(forget_dues)  # type: ignore[arg-type]

    @app.agent(channel, name="child", concurrency=1, supervisor_strategy=StopTheWorker)
    async def child(stream: Any) -> None:
        def decode(raw: bytes) -> ChildMessage:  # only the link stage and the ticker write it
            return codec.decode_trusted_as(raw, ChildMessage)  # type: ignore[no-any-return]

        with telling(on_fault):
            async for batch in batches(stream, batch_max, batch_within):
                events = await rewind.follow_on(batch)
                if not events:
                    continue  # acknowledged, and read again from where the gap began
                items = [(e.message.value or b"", e.message.partition) for e in events]
                await handle_child_batch(
                    items,
                    decode,
                    store,
                    sink,
                    config=config,
                    clock=clock,
                    enter=message_context(events),
                    observer=observer,
                    message_offsets=[e.message.offset for e in events],
                    closing=[closes(e.message) for e in events],
                    durable=app.producer.flush,  # the tables' changelogs: its records
                )

    register_ticker(
        app, ticker, lambda: owned_partitions(app), tick_seconds=tick_seconds, on_fault=on_fault
    )
    return child


def register_ticker(
    app: faust.App,
    ticker: Ticker,
    owned: Callable[[], set[int]],
    *,
    tick_seconds: float,
    on_fault: FaultListener = ignore_fault,
) -> None:
    """Look for due deadlines every `tick_seconds`, on the partitions `owned` names (the
    agent's or the child loop's: broker/kafka/child_loop.py)."""

    async def look_for_deadlines() -> None:
        partitions = owned()
        if not partitions:
            return
        try:
            await ticker.run_once(partitions)
        except Exception as exc:  # an exception in a faust timer stops the whole worker
            on_fault(exc)  # unless it is the disk's: then the worker must stop
            log.exception("deadline look failed", extra={"error": type(exc).__name__})

    app.timer(interval=tick_seconds, name="ticker")(look_for_deadlines)
