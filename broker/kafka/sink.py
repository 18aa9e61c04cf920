"""The Kafka adapter of the sink port (broker/pipeline/sink.py).

It returns only once every record handed to it is acknowledged, so that an agent marks
an event as done (state written, offset acknowledged) only once everything it published
is durable. A batch (`send_all`) is handed to the producer in order without awaiting
each record, then awaited as a whole: one round trip per batch. A failure to send is
retried with backoff, never skipped: a stalled partition is visible (lag) and
recoverable, a skipped record is a lost one.

Records go to faust's producer (`app.producer.send`, the aiokafka producer under the
tables' changelogs too), not through a faust `Topic`: a topic's send wraps each record
in faust's message objects, runs its sensors and a callback, and resolves a future of
its own, which together cost the worker more than the send itself (issue 12:
`python -m bench.live --phases worker1` profiled). The bytes, key, partition (aiokafka's
partitioner over the key, as before) and acknowledgement are the same; faust's own
`faust_topic_messages_sent` and `faust_producer_send_latency` now count the changelogs'
records only (`mash_events_out_total` counts these). A record that fails is still
reported to faust's sensors (`faust_total_error_messages_sent_total`, which
deploy/prometheus/alerts.yml alerts on), as faust's topic did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Any

from broker.errors import InfrastructureError
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import Encoder, Outgoing

log = logging.getLogger(__name__)


class KafkaSink:
    """Publishes through the faust app's producer, Avro-encoded by the codec.

    By default it retries for as long as it takes: while Kafka is away the partition
    waits (visible as lag) and nothing is skipped.
    """

    def __init__(self, app: Any, codec: Encoder, *, attempts: int | None = None) -> None:
        self._app = app
        self._codec = codec
        self._attempts = attempts

    def _wire(self, record: OutRecord) -> tuple[bytes | None, bytes]:
        value = self._codec.encode(record.value, topic=record.topic)
        key = record.key.encode("utf-8") if record.key is not None else None
        return key, value

    @staticmethod
    async def _hand_over(
        producer: Any, topic: str, key: bytes | None, value: bytes
    ) -> Awaitable[Any]:
        """Encoded bytes to the producer; their acknowledgement, to await."""
        return await producer.send(  # type: ignore[no-any-return]
            topic, key, value, partition=None, timestamp=None, headers=None
        )

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        """Hand every record to the producer, then wait for all acknowledgements.

        A record that fails (or cannot be handed over) is sent again on its own with
        backoff, and so is every record after it in the batch that was not yet handed
        over: nothing is skipped. The records that were acknowledged stay acknowledged.
        """
        pending: list[tuple[OutRecord, Awaitable[Any]]] = []
        rest: list[OutRecord] = []
        started = time.monotonic()
        producer = None  # looked up once a batch
        for index, (record, _) in enumerate(records):
            key, value = self._wire(record)  # a record that cannot be encoded raises
            try:
                producer = producer or await self._app.maybe_start_producer()
                pending.append((record, await self._hand_over(producer, record.topic, key, value)))
            except Exception as exc:  # the producer refused it: the slow path, in order
                log.warning(
                    "batch send failed, sending one by one",
                    extra={"topic": record.topic, "error": type(exc).__name__},
                )
                rest = [r for r, _ in records[index:]]
                break
        failed = [record for record, ack in pending if not await self._durable(ack, started)]
        for record in [*failed, *rest]:
            await self.send(record)

    async def _durable(self, acknowledgement: Awaitable[Any], started: float) -> bool:
        """Whether a record was acknowledged: False if it failed (reported to faust's
        sensors, as faust's topic reports a failed send) or its future was cancelled
        (the producer closing); the caller sends it again. A batch's are awaited one
        after another: the first wait is the round trip, the rest are mostly done
        already (cheaper than `asyncio.gather`, which adds a callback and a result per
        record). A cancellation of the waiting task itself is not swallowed."""
        try:
            await acknowledgement
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            return False
        except Exception as exc:
            sensors = self._app.sensors
            sensors.on_send_error(self._app.producer, exc, dict.fromkeys(sensors, started))
            return False
        return True

    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        key, value = self._wire(record)
        delay = 0.2
        attempt = 0
        while self._attempts is None or attempt < self._attempts:
            attempt += 1
            started = time.monotonic()
            try:
                producer = await self._app.maybe_start_producer()
                acknowledgement = await self._hand_over(producer, record.topic, key, value)
                if await self._durable(acknowledgement, started):
                    return
                error = "not acknowledged"
            except Exception as exc:  # aiokafka raises many types; all are transport here
                error = type(exc).__name__
            log.warning(
                "send failed, retrying",
                extra={"topic": record.topic, "attempt": attempt, "error": error},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        raise InfrastructureError(f"could not publish to {record.topic} after retries")
