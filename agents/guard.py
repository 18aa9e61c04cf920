"""The last line of defence of every agent: no exception kills a worker, nothing is lost.

Bad input never gets here (ingest turns it into a rejection). What does get here is a
fault of the broker's own: the message is put on `broker.rejected.v1` with its bytes
and the fault's class, and the agent goes on with the next message. Transport failures
never get here either: the sink retries them until Kafka is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from broker.calendar.clock import Clock
from broker.pipeline.rejection import failure_records
from broker.pipeline.sink import Sink

log = logging.getLogger(__name__)


async def guarded(
    handle: Callable[[], Awaitable[str]], raw: bytes, topic: str, sink: Sink, clock: Clock
) -> str:
    try:
        return await handle()
    except Exception as exc:
        error = type(exc).__name__
        log.exception(
            "message failed; kept on the rejected topic", extra={"topic": topic, "error": error}
        )
        for record in failure_records(raw, topic, clock.now(), error):
            await sink.send(record)
        return "failed"
