"""The page's one way out: publishing a record to Kafka, as a port.

Routes are handed a `Publisher`; the web process gives them `KafkaPublisher` (the real
aiokafka producer, every send acknowledged by all in-sync replicas before the page says
it is done), route tests a fake that keeps what was sent. Records are Avro, encoded by
the project's codec before they reach the port.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from broker.errors import InfrastructureError
from broker.kafka.admin import client_options
from broker.settings import Settings


class Publisher(Protocol):
    async def publish(self, topic: str, key: str, value: bytes) -> None:
        """Send one record and wait until Kafka has it; `InfrastructureError` if not."""
        ...


class KafkaPublisher:
    """The aiokafka producer behind the port (idempotent, acks=all)."""

    def __init__(self, settings: Settings, timeout: float = 15.0) -> None:
        self._settings = settings
        self._timeout = timeout
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            **client_options(self._settings),
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, topic: str, key: str, value: bytes) -> None:
        if self._producer is None:
            raise InfrastructureError("the page's Kafka producer is not started")
        try:
            await asyncio.wait_for(
                self._producer.send_and_wait(topic, value, key=key.encode("utf-8")),
                self._timeout,
            )
        except (KafkaError, TimeoutError) as exc:
            raise InfrastructureError(
                f"Kafka did not take the record ({type(exc).__name__})"
            ) from None
