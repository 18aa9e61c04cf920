"""The link stage off faust: a batched aiokafka consume -> link -> produce loop.

    python -m bench.live_linkloop --bootstrap 127.0.0.1:PORT --expect N --group G
                                  [--mode transactions|idempotent] [--batch 500]
    python -m bench.live_linkloop --offline --events N --seed S

What docs/notes/faust-kafka.md ("Less of faust around each record") and docs/identity.md
("Several workers") say would move the worker's bound, measured before anyone builds it:
broker.accepted.v1 (one partition: the ceiling of any deployment) read by an
AIOKafkaConsumer (a group, read_committed, no auto-commit) in `getmany` batches, each
batch linked by the project's own functions (bench.link_batch: `link_step` on an
in-memory index, seen and held, exactly as the worker's link agent calls it), every
output and state record handed to the producer without awaiting it, and then:

- `transactions`: one Kafka transaction per batch (AIOKafkaProducer with a
  transactional_id: idempotent, acks from all): begin, the sends, the batch's offsets
  added with `send_offsets_to_transaction`, commit. aiokafka 0.14's `commit_transaction`
  flushes what is buffered before its EndTxn, but unlike Java's it does not fail when a
  send of the transaction failed (the sender fails only that batch's future; the
  transaction is marked abortable only for errors of its own requests), so the loop
  awaits the sends' futures (after the offsets, so their round trips overlap) before it
  commits: one produce round trip, then the EndTxn, per batch.
- `idempotent`: at-least-once as the worker is today: an idempotent producer, the
  batch's sends awaited, then the consumer's offsets committed.

It prints {"ready": true} once its partition is assigned (the topic is already full:
bench.live fills it first, so this is the drain of a backlog) and {"done": wall time,
"first": wall time of the first batch, "records": N, "cpu": CPU seconds, ...} once N
records are linked and committed; it gives up after --timeout seconds.

`--offline` times the same events without Kafka, in this process: `link_step` alone
(the events decoded beforehand), decoding (as the link stage does, `decode_trusted`,
and validating again, as it did before), encoding the steps' records, and the whole
batch transform (decode, link, encode, the state records), CPU seconds per event
(`time.process_time`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.link_batch import STATE_TOPIC, LinkBatcher
from bench.live_events import council_events
from broker.codec import codec_from_settings
from broker.settings import Settings
from broker.topics import ACCEPTED

MODES = ("transactions", "idempotent")


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def link_loop(
    bootstrap: str,
    expect: int,
    group: str,
    *,
    mode: str = "transactions",
    batch: int = 500,
    prefix: str = "",
    timeout: float = 300.0,
    on_ready: Any = None,
) -> dict[str, Any]:
    """Link `expect` records of `prefix`broker.accepted.v1; the loop's figures."""
    if mode not in MODES:
        raise ValueError(f"mode is one of {MODES}")
    linker = LinkBatcher(codec_from_settings(Settings()))
    consumer = AIOKafkaConsumer(
        prefix + ACCEPTED.name,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    transactional = mode == "transactions"
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        transactional_id=f"{group}-link-0" if transactional else None,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    await consumer.start()
    await producer.start()
    deadline = time.monotonic() + timeout
    figures: dict[str, Any] = {"batches": 0, "outputs": 0, "state_records": 0}
    try:
        while not consumer.assignment() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # subscribing: the group's join runs in the background
        ready_cpu = time.process_time()
        if on_ready is not None:
            on_ready(ready_cpu)
        done, first = 0, 0.0
        spent = dict.fromkeys(("fetch", "link", "send", "offsets", "acks", "commit"), 0.0)
        clock = time.perf_counter
        while done < expect and time.monotonic() < deadline:
            t0 = clock()
            fetched = await consumer.getmany(timeout_ms=100, max_records=batch)
            if not fetched:
                continue
            first = first or time.time()
            t1 = clock()
            if transactional:
                await producer.begin_transaction()
            raws = [m.value or b"" for ms in fetched.values() for m in ms]
            records = linker.link(raws, prefix)
            t2 = clock()
            sent = [await producer.send(topic, value, key=key) for topic, key, value in records]
            offsets = {tp: ms[-1].offset + 1 for tp, ms in fetched.items()}
            t3 = clock()
            if transactional:
                await producer.send_offsets_to_transaction(offsets, group)
            t4 = clock()
            for acknowledgement in sent:
                await acknowledgement  # raises if a send failed: nothing is committed
            t5 = clock()
            if transactional:
                await producer.commit_transaction()
            else:
                await consumer.commit(offsets)
            t6 = clock()
            for name, took in zip(
                spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True
            ):
                spent[name] += took
            done += len(raws)
            figures["batches"] += 1
            state = sum(1 for r in records if r[0] == prefix + STATE_TOPIC)
            figures["state_records"] += state
            figures["outputs"] += len(records) - state
        figures["seconds_in"] = spent
        figures |= {"done": time.time(), "first": first, "records": done}
        figures["cpu"] = time.process_time() - ready_cpu
        return figures
    finally:
        await producer.stop()
        await consumer.stop()


def offline(events: int, seed: int, batch: int) -> dict[str, Any]:
    """CPU per event without Kafka: `link_step` alone, and the whole batch transform."""
    codec = codec_from_settings(Settings())
    raws = [codec.encode(e, topic=ACCEPTED.name) for e in council_events(events, seed)]
    LinkBatcher(codec).link(raws)  # warm: lazy caches, the first index's gc.freeze
    alone = LinkBatcher(codec)
    decoded = [(alone.decode(raw), raw) for raw in raws]
    started = time.process_time()
    steps = [alone.link_event(event, raw) for event, raw in decoded]
    link = time.process_time() - started
    started = time.process_time()
    for step in steps:
        for record in step.records:
            alone.wire(record)
    encode = time.process_time() - started
    whole = LinkBatcher(codec)
    started = time.process_time()
    for i in range(0, len(raws), batch):
        whole.link(raws[i : i + batch])
    transform = time.process_time() - started
    decode = _timed(codec.decode_trusted, raws)  # as the link stage decodes
    validating = _timed(codec.decode, raws)  # as it did before (and ingest still does)
    return {
        "events": len(raws),
        "link_step_cpu_per_event": link / len(raws),
        "decode_cpu_per_event": decode / len(raws),
        "validating_decode_cpu_per_event": validating / len(raws),
        "encode_cpu_per_event": encode / len(raws),
        "transform_cpu_per_event": transform / len(raws),
    }


def _timed(decode: Any, raws: list[bytes]) -> float:
    started = time.process_time()
    for raw in raws:
        decode(raw)
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap")
    parser.add_argument("--expect", type=int)
    parser.add_argument("--group", default="bench-linkloop")
    parser.add_argument("--mode", choices=MODES, default="transactions")
    parser.add_argument("--batch", type=int, default=500, help="records per getmany at most")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--offline", action="store_true", help="no Kafka: CPU per event")
    parser.add_argument("--events", type=int, default=5000, help="--offline: the council's")
    parser.add_argument("--seed", type=int, default=0, help="--offline: the council's")
    args = parser.parse_args(argv)
    if args.offline:
        say(offline=offline(args.events, args.seed, args.batch))
        return 0
    if not args.bootstrap or args.expect is None:
        parser.error("--bootstrap and --expect are needed (or --offline)")
    found = asyncio.run(
        link_loop(
            args.bootstrap,
            args.expect,
            args.group,
            mode=args.mode,
            batch=args.batch,
            timeout=args.timeout,
            on_ready=lambda cpu: say(ready=True, cpu=cpu),
        )
    )
    say(**found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
