"""The ceiling: a bare aiokafka consume -> decode -> re-encode -> produce loop.

    python -m bench.live_raw --bootstrap 127.0.0.1:PORT --expect N [--group G]

Run by bench.live in its own process (so it does not share an interpreter with the
producer). It reads every inbound topic, decodes each record with the project's codec
(Avro, resolved to the reader schema, validated into its pydantic model: what ingest
does first), encodes it again and publishes it to broker.accepted.v1 keyed by event id,
as ingest does. Nothing else: no rules, no state, no linking. It is the best a Python
client does here, written as a Kafka engineer would: `getmany` batches, every send of a
batch enqueued without waiting, their delivery futures gathered once per batch, then
one offset commit per batch (at-least-once: offsets are committed only once the batch's
outputs are acknowledged).

It prints one JSON line when its partitions are assigned ({"ready": true}) and one when
it has written N records ({"done": wall time, "first": wall time of the first record,
"records": N, "cpu": CPU seconds}), then exits; it gives up after --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from broker.codec import codec_from_settings
from broker.settings import Settings
from broker.topics import ACCEPTED, INBOUND_TOPICS


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def loop(bootstrap: str, expect: int, group: str, timeout: float) -> None:
    codec = codec_from_settings(Settings())
    consumer = AIOKafkaConsumer(
        *INBOUND_TOPICS,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        max_poll_records=1000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await consumer.start()
    await producer.start()
    deadline = time.monotonic() + timeout
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)  # joins the group; topics are empty
        say(ready=True, cpu=time.process_time())
        done, first = 0, 0.0
        while done < expect and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100, max_records=1000)
            if not batches:
                continue
            first = first or time.time()
            pending = []
            for records in batches.values():
                for record in records:
                    event = codec.decode(record.value or b"")
                    value = codec.encode(event, topic=ACCEPTED.name)
                    key = str(getattr(event, "event_id", "")).encode()
                    pending.append(await producer.send(ACCEPTED.name, value, key=key))
            await asyncio.gather(*pending)
            await consumer.commit()
            done += len(pending)
        say(done=time.time(), first=first, records=done, cpu=time.process_time())
    finally:
        await producer.stop()
        await consumer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--group", default="bench-raw")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    asyncio.run(loop(args.bootstrap, args.expect, args.group, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
