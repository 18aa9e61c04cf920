"""A child's chronology from the live worker's tables, not from a file.

The worker keeps each child's picture in the `child-pictures` table; its changelog
topic holds the latest picture per child (compacted), so reading it to its end gives
exactly what a restarted worker would recover. Read-only: no consumer group, nothing
committed, nothing written.
"""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.errors import InfrastructureError
from broker.kafka.admin import client_options
from broker.kafka.tables import PICTURES, changelog_topic
from broker.picture import ChildPicture
from broker.settings import Settings


async def live_pictures(settings: Settings, timeout: float = 10.0) -> dict[str, ChildPicture]:
    """Every child's latest picture, as the worker's table holds it now."""
    topic = changelog_topic(settings.app_id, PICTURES)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",  # the child loop's aborted batches: never
        **client_options(settings),
    )
    try:
        await consumer.start()
        if topic not in await consumer.topics():
            return {}  # no worker of this app id has written a picture yet
        assigned: list[TopicPartition] = []
        for _ in range(int(timeout * 10)):  # without a group, every partition comes
            assigned = sorted(consumer.assignment())
            if assigned:
                break
            await asyncio.sleep(0.1)
        ends = await consumer.end_offsets(assigned)
        raw: dict[str, bytes | None] = {}
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(*assigned, timeout_ms=int(timeout * 1000))
            if not batch:
                raise InfrastructureError(f"{topic}: no records within {timeout} s")
            for messages in batch.values():
                for message in messages:
                    key = json.loads(message.key) if message.key else None
                    if isinstance(key, str):
                        raw[key] = message.value
    except OSError as exc:
        raise InfrastructureError(f"Kafka at {settings.kafka_bootstrap}: {exc!r}") from exc
    finally:
        await consumer.stop()
    return {k: ChildPicture.model_validate_json(v) for k, v in raw.items() if v}
