"""faust's own cost: a bare faust agent doing the ceiling's decode -> re-encode.

    python -m bench.live_faust --bootstrap 127.0.0.1:PORT --expect N --app-id A --datadir D

Run by bench.live in its own process. A minimal `faust.App` (memory store, no web
server, no tables) configured as the worker's app is where it matters (at-least-once,
acks from all replicas, earliest offsets), with one agent (concurrency 1, like the
worker's) over every inbound topic that decodes each record with the project's codec,
encodes it again and sends it to broker.accepted.v1 keyed by event id. Sends are faust's
usual `await topic.send(...)`, which only enqueues: faust's producer delivers in the
background and the consumer commits offsets on its own interval, as in any faust app.
The difference between this and bench.live_raw is what faust's streams, its
per-message bookkeeping (acks, offsets) and its producer buffer cost; the difference
between this and the worker is the broker's own work.

It prints one JSON line at the end of the first rebalance ({"ready": true}) and one
once N records are sent and the producer flushed ({"done": ...}, as bench.live_raw);
bench.live then stops it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import faust

from broker.codec import codec_from_settings
from broker.settings import Settings
from broker.topics import ACCEPTED, INBOUND_TOPICS


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def build(bootstrap: str, expect: int, app_id: str, datadir: str, partitions: int) -> faust.App:
    codec = codec_from_settings(Settings())
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        autodiscover=False,
        datadir=datadir,
        store="memory://",
        topic_partitions=partitions,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        web_enabled=False,
    )
    inbound = app.topic(*INBOUND_TOPICS, key_serializer="raw", value_serializer="raw")
    accepted = app.topic(ACCEPTED.name, key_serializer="raw", value_serializer="raw")
    counted = {"done": 0, "first": 0.0}

    async def on_ready(sender: Any, **kwargs: Any) -> None:
        if not counted["first"]:
            say(ready=True, cpu=time.process_time())

    app.on_rebalance_complete.connect(on_ready)  # type: ignore[arg-type]

    @app.agent(inbound, name="bare", concurrency=1)
    async def bare(stream: Any) -> None:
        async for event in stream.events():
            counted["first"] = counted["first"] or time.time()
            decoded = codec.decode(event.message.value or b"")
            value = codec.encode(decoded, topic=ACCEPTED.name)
            key = str(getattr(decoded, "event_id", "")).encode()
            await accepted.send(key=key, value=value)
            counted["done"] += 1
            if counted["done"] == expect:
                await app.producer.flush()
                say(
                    done=time.time(),
                    first=counted["first"],
                    records=expect,
                    cpu=time.process_time(),
                )

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--app-id", default="bench-bare")
    parser.add_argument("--datadir", required=True)
    parser.add_argument("--partitions", type=int, default=12)
    args = parser.parse_args(argv)
    app = build(args.bootstrap, args.expect, args.app_id, args.datadir, args.partitions)
    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    worker.spinner = None
    worker.execute_from_commandline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
