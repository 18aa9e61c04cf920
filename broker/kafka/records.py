"""Every record of some output topics as they stand now, decoded: what a report run
against the live cluster reads (`mash-broker report timeliness --live`).

Read-only, like broker.kafka.pictures: no consumer group, nothing committed; each
partition is read from its beginning to the end offset it had when the read began, so
the answer is a snapshot even while the worker goes on publishing.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel

from broker.codec import codec_from_settings
from broker.errors import InfrastructureError, InvalidInput
from broker.kafka.admin import client_options, refusals_as_not_authorized
from broker.settings import Settings


async def read_to_end(
    settings: Settings, topics: list[str], timeout: float = 10.0
) -> list[BaseModel]:
    """The decoded records of `topics`, up to their end offsets at the start."""
    codec = codec_from_settings(settings)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        **client_options(settings),
    )
    found: list[BaseModel] = []
    try:
        with refusals_as_not_authorized(f"reading {', '.join(topics)}"):
            await consumer.start()
            partitions: list[TopicPartition] = []
            for _ in range(int(timeout * 10)):  # without a group, every partition comes
                partitions = sorted(consumer.assignment())
                if {tp.topic for tp in partitions} >= set(topics):
                    break
                await asyncio.sleep(0.1)
            if not partitions:
                return []
            ends = await consumer.end_offsets(partitions)
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(*partitions, timeout_ms=int(timeout * 1000))
                if not batch:
                    raise InfrastructureError(f"{topics}: no records within {timeout} s")
                for tp, messages in batch.items():
                    for message in messages:
                        if message.offset >= ends[tp]:
                            continue
                        try:
                            found.append(codec.decode(message.value or b""))
                        except InvalidInput:  # as the page does: one bad record is skipped
                            continue
    except OSError as exc:
        raise InfrastructureError(f"Kafka at {settings.kafka_bootstrap}: {exc!r}") from exc
    finally:
        await consumer.stop()
    return found
