"""Where stages' output records go: the port, and its in-memory fake.

The stages' agents are handed a `Sink`, never a producer: the worker's is the Kafka
adapter (broker/kafka/sink.py), which returns only once a record is durable; tests and
the contract test use `MemorySink`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from broker.pipeline.records import OutRecord

Outgoing = tuple[OutRecord, datetime | None]
"""A record to publish, and when the event that caused it was recorded (if known)."""


class Encoder(Protocol):
    def encode(self, value: Any, topic: str | None = None) -> bytes: ...


class Sink(Protocol):
    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        """Publish one record; returns when it is durable (or raises, retriable).

        `recorded_at` is when the event that caused the record was recorded, when the
        caller knows it: a metered sink (broker.ops.metrics) measures end-to-end latency
        from it. Adapters that do not measure ignore it.
        """
        ...

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        """Publish a batch; returns when every record is durable (or raises, retriable).

        Records are handed to the producer in the order given, without waiting for each
        acknowledgement (one round trip for the batch, not one per record), so records
        of one key keep their order. Why the agents batch: docs/notes/faust-kafka.md.
        """
        ...


class MemorySink:
    """The fake: records kept in order, for agent tests and the contract test."""

    def __init__(self) -> None:
        self.records: list[OutRecord] = []

    async def send(self, record: OutRecord, *, recorded_at: datetime | None = None) -> None:
        self.records.append(record)

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        self.records.extend(record for record, _ in records)

    def on(self, topic: str) -> list[OutRecord]:
        return [r for r in self.records if r.topic == topic]
