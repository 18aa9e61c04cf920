"""The last line of defence of every agent: no exception kills a worker, nothing is lost.

Bad input never gets here (ingest turns it into a rejection). What does get here is a
fault of the broker's own: the message is put on `broker.rejected.v1` with its bytes
and the fault's class, and the agent goes on with the next message. Transport failures
never get here either: the sink retries them until Kafka is back.

The disk is not the message: a table write that fails because the state directory
cannot be written is raised, not kept (`failure`), and stops the worker.

Two forms: `guarded` wraps one message's whole handling (decode, step, send), and
`failure` gives the records for one message of a batch whose step raised, so the rest
of the batch goes on and its records are sent with the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

from faust.streams import _current_event
from mode import ServiceT
from mode.supervisors import OneForOneSupervisor

from broker.calendar.clock import Clock
from broker.ops.metrics import StageObserver
from broker.ops.state_dir import fault_error, is_storage_fault
from broker.pipeline.rejection import failure_records
from broker.pipeline.sink import Outgoing, Sink

log = logging.getLogger(__name__)

Enter = Callable[[int], None]
"""Makes message i of a batch the current one before its state is read or written: faust
writes a table only from within a message's context (its partition is the changelog's),
and its RocksDB store reads a key from the current message's partition only, so a read
in another message's context finds nothing (the child would look new)."""


FAULT_EXIT_CODE = 70
"""The worker's exit status when an agent failed outside the per-message guard
(EX_SOFTWARE): its supervisor (Kubernetes, systemd, `./dev run`) starts it again."""


class StopTheWorker(OneForOneSupervisor):
    """The agents' supervisor: a fault that escapes an agent stops the whole worker.

    faust's default restarts the crashed agent in the same process, on the same stream,
    without the messages of the batch it was handling: they are never processed and,
    never acknowledged, their partition's offset is never committed again. The
    partition stalls while the worker reports itself ready, and the records already
    sent have no state written behind them. Exiting instead (at once, like a SIGKILL:
    nothing is committed on the way out) hands the partitions back at their committed
    offsets, so the restarted worker, or another, processes the batch again from its
    start: the case tests/integration/test_batch_killed_half_sent.py proves exact.

    A cancellation is not a fault: faust cancels and restarts an agent on a
    rebalance, and that restart is kept.
    """

    async def restart_service(self, service: ServiceT) -> None:
        reason = service.crash_reason
        if reason is None or isinstance(reason, asyncio.CancelledError):
            await super().restart_service(service)
            return
        stop_the_worker(reason, "an agent failed outside its per-message guard")


def stop_the_worker(reason: BaseException, what: str) -> None:
    """Exit at once (nothing committed on the way out): the supervisor starts the worker
    again, and it goes on from its committed offsets (or transactions)."""
    log.critical(
        f"{what}; stopping the worker so that it restarts from its committed offsets",
        exc_info=reason,
        extra={"error": type(reason).__name__, "exit_code": FAULT_EXIT_CODE},
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(FAULT_EXIT_CODE)


def no_context(position: int) -> None:
    """Outside faust (tests, replay) there is no message context to enter."""


async def batches(stream: Any, batch_max: int, within: float) -> AsyncIterator[list[Any]]:
    """The stream's events in batches of at most `batch_max`, each acknowledged only
    once the caller has handled its batch (asked for the next one).

    `batch_max == 1` is faust's own message-by-message loop (`stream.events()`: each
    event acknowledged when the next is asked for). Larger batches do not use faust's
    `take_events` (its buffering processor runs in another task and waits `within` to
    fill a batch). Instead one task reads the stream as `events()` does, with faust's own
    acknowledging turned off, into a queue of at most `batch_max`; a batch is the first
    event to arrive and whatever else is ready (within `within` seconds, 0 by default).
    Under light traffic a batch is one event and waits for nothing; under load the next
    batch fills while one is handled.
    """
    if batch_max == 1:
        async for event in stream.events():
            yield [event]
        return
    stream.enable_acks = False  # acknowledged below, once the batch is handled
    ready: asyncio.Queue[Any] = asyncio.Queue(maxsize=batch_max)

    async def read() -> None:
        async for event in stream.events():
            await ready.put(event)

    reading = asyncio.ensure_future(read())
    try:
        while True:
            first = asyncio.ensure_future(ready.get())
            await asyncio.wait({first, reading}, return_when=asyncio.FIRST_COMPLETED)
            if not first.done():
                first.cancel()
                reading.result()  # the stream ended or failed: end or raise here too
                return
            batch = [first.result()]
            await _fill(batch, ready, batch_max, within)
            yield batch
            for event in batch:
                await stream.ack(event)
    finally:
        reading.cancel()


async def _fill(batch: list[Any], ready: asyncio.Queue[Any], most: int, within: float) -> None:
    """Add to `batch` what is ready now, and what arrives within `within` seconds."""
    loop = asyncio.get_running_loop()
    until = loop.time() + within
    while len(batch) < most:
        if not ready.empty():
            batch.append(ready.get_nowait())
            continue
        left = until - loop.time()
        if left <= 0:
            return
        try:
            batch.append(await asyncio.wait_for(ready.get(), left))
        except TimeoutError:
            return


FaultListener = Callable[[BaseException], object]
"""Hears of an exception escaping an agent (compose: a storage fault stops the worker)."""


def ignore_fault(exc: BaseException) -> None:
    """No listener: the agent's supervisor (`StopTheWorker`) stops the worker."""


@contextlib.contextmanager
def telling(listener: FaultListener) -> Iterator[None]:
    """Tell `listener` of an exception escaping the block, then let it go on."""
    try:
        yield
    except Exception as exc:
        listener(exc)
        raise


def report(observer: StageObserver, stage: str, outcomes: Sequence[str]) -> None:
    """One batch's size and each of its messages' outcomes, to the metrics."""
    observer.batch(stage, len(outcomes))
    for outcome in outcomes:
        observer.outcome(stage, outcome)


def message_context(events: Sequence[Any]) -> Enter:
    """Enter a batch's messages as faust does for a message it yields one at a time:
    the context variable that a table write reads its partition from
    (`faust.streams.current_event`). The reading task of `batches` set it in its own
    task, not in the agent's, and it names the last message read, not the one handled.

    Only the context variable: never the stream's `current_event` attribute, which the
    stream's own iterator owns (setting it would put an old event in the place of a
    new one).
    """

    def enter(position: int) -> None:
        _current_event.set(weakref.ref(events[position]))

    return enter


def failure(exc: Exception, raw: bytes, topic: str, clock: Clock) -> list[Outgoing]:
    """Log a broker fault (its class, never the message) and keep the message.

    A table that cannot be written (a full or read-only disk) is not a fault of this
    message: kept as one, the message would be acknowledged and so lost. It raises
    `StateUnwritable` instead, out of the agent, which stops the worker
    (broker/ops/state_dir.py); the batch is never acknowledged."""
    if is_storage_fault(exc):
        raise fault_error(exc) from exc
    error = type(exc).__name__
    log.error(
        "message failed; kept on the rejected topic",
        exc_info=exc,
        extra={"topic": topic, "error": error},
    )
    return [(record, None) for record in failure_records(raw, topic, clock.now(), error)]


async def guarded(
    handle: Callable[[], Awaitable[str]], raw: bytes, topic: str, sink: Sink, clock: Clock
) -> str:
    try:
        return await handle()
    except Exception as exc:
        await sink.send_all(failure(exc, raw, topic, clock))
        return "failed"
