"""The Kafka adapter of the sink port (broker/pipeline/sink.py).

It waits for each record to be acknowledged before returning, so that an agent marks
an event as done only once everything it published is durable. A failure to send is
retried with backoff, never skipped: a stalled partition is visible (lag) and
recoverable, a skipped record is a lost one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from broker.errors import InfrastructureError
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import Encoder

log = logging.getLogger(__name__)


class KafkaSink:
    """Publishes through the faust app's producer, Avro-encoded by the codec.

    By default it retries for as long as it takes: while Kafka is away the partition
    waits (visible as lag) and nothing is skipped.
    """

    def __init__(self, app: Any, codec: Encoder, *, attempts: int | None = None) -> None:
        self._app = app
        self._codec = codec
        self._topics: dict[str, Any] = {}
        self._attempts = attempts

    def _topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self._app.topic(name, key_serializer="raw", value_serializer="raw")
        return self._topics[name]

    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        value = self._codec.encode(record.value, topic=record.topic)
        key = record.key.encode("utf-8") if record.key is not None else None
        delay = 0.2
        attempt = 0
        while self._attempts is None or attempt < self._attempts:
            attempt += 1
            try:
                pending = await self._topic(record.topic).send(key=key, value=value)
                await pending
                return
            except Exception as exc:  # aiokafka raises many types; all are transport here
                log.warning(
                    "send failed, retrying",
                    extra={"topic": record.topic, "attempt": attempt, "error": type(exc).__name__},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        raise InfrastructureError(f"could not publish to {record.topic} after retries")
