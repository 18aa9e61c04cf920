"""`mash-broker tail TOPIC`: a topic's records, decoded, as JSON lines.

For an operator or an integration engineer checking what the broker publishes. A record
that cannot be decoded is shown as such (its offset), never skipped silently.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

from aiokafka import AIOKafkaConsumer

from broker.codec import codec_from_settings
from broker.errors import InvalidInput
from broker.kafka.admin import client_options, refusals_as_not_authorized
from broker.settings import Settings


async def tail_topic(
    settings: Settings,
    topic: str,
    *,
    from_beginning: bool = False,
    idle_timeout: float | None = None,
    limit: int | None = None,
    out: TextIO = sys.stdout,
) -> int:
    codec = codec_from_settings(settings)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        group_id=None,
        **client_options(settings),  # TLS/SASL: read as the principal the settings name
    )
    count = 0
    try:
        with refusals_as_not_authorized(f"reading {topic}"):
            await consumer.start()
            while limit is None or count < limit:
                try:
                    message = await asyncio.wait_for(consumer.getone(), timeout=idle_timeout)
                except TimeoutError:
                    break
                key = message.key.decode("utf-8", "replace") if message.key else None
                try:
                    value = codec.decode(message.value or b"").model_dump(mode="json")
                    line = {"topic": message.topic, "key": key, "value": value}
                except InvalidInput as exc:
                    line = {
                        "topic": message.topic,
                        "key": key,
                        "offset": message.offset,
                        "undecodable": str(exc),
                    }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                count += 1
    finally:
        await consumer.stop()
    return 0
