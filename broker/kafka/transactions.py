"""What the transactional loops share (broker/kafka/link_loop.py, child_loop.py): their
producers, how they are stopped and aborted without raising, reading state back read
committed, and lag counted from the offset handled next.

Each is written once so that a lesson learnt in one loop holds in the other: aiokafka
asserts (`AssertionError`) on an abort or a flush its transaction manager's state does
not allow, where Java would raise a Kafka error, and a loop must not stop on it
(docs/notes/faust-kafka.md, `bench.chaos` seed 2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced

from broker.errors import Fenced
from broker.kafka.placement import partitioner

log = logging.getLogger(__name__)

Load = Callable[[TopicPartition, bytes, bytes | None], None]
"""Hears of a state record read back: its partition, key and value (None: deleted)."""


def transactional_producer(
    bootstrap: str,
    transactional_id: str,
    *,
    linger_ms: int,
    batch_bytes: int,
    client_options: Mapping[str, Any] | None = None,
) -> AIOKafkaProducer:
    """A loop's producer: transactional, idempotent, every replica's acknowledgement."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=transactional_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=linger_ms,
        max_batch_size=batch_bytes,
        partitioner=partitioner,
        **(client_options or {}),
    )


async def start_or_give_up(producer: AIOKafkaProducer, stage: str) -> None:
    """Start a loop's producer: that fences the previous owner of its transactional id
    and aborts what it left open. If it cannot start, it is stopped (its connections not
    leaked) and the error raised; a fencing as `Fenced` (another owner started the same
    id in the same moment)."""
    try:
        await producer.start()
    except ProducerFenced as exc:
        await stop_quietly(producer, stage)
        raise Fenced(f"the {stage} stage's transactional id is taken") from exc
    except BaseException:
        await stop_quietly(producer, stage)
        raise


async def stop_quietly(producer: AIOKafkaProducer, stage: str) -> None:
    """Stop a producer given up (its connections and sender task), never raising: a
    fenced producer, or one whose sender stopped, may refuse to flush."""
    try:
        await producer.stop()
    except (KafkaError, AssertionError) as exc:
        log.warning(f"{stage} producer not stopped cleanly", extra={"error": type(exc).__name__})


async def abort_quietly(producer: AIOKafkaProducer, stage: str, *, fenced: bool = False) -> None:
    """Abort the open transaction if the producer still can; the next producer with the
    same transactional id aborts whatever this one could not. `fenced`: a fencing is
    raised (`ProducerFenced`), not logged, for the caller to stop on."""
    try:
        await producer.abort_transaction()
    except ProducerFenced:
        if fenced:
            raise
        log.warning(f"{stage} transaction not aborted", extra={"error": "ProducerFenced"})
    except (KafkaError, AssertionError) as exc:
        log.warning(f"{stage} transaction not aborted", extra={"error": type(exc).__name__})


def lag_from(
    consumer: AIOKafkaConsumer | None, next_offsets: Mapping[TopicPartition, int]
) -> dict[tuple[str, int], int]:
    """Messages not yet handled per partition: its highwater (as the consumer last heard
    it) less the offset handled next; read at scrape time, never raising."""
    if consumer is None:
        return {}
    lags = {}
    for tp, handled in list(next_offsets.items()):
        highwater = consumer.highwater(tp)
        if highwater is not None:
            lags[(tp.topic, tp.partition)] = max(0, highwater - handled)
    return lags


async def read_committed(
    bootstrap: str,
    tps: Sequence[TopicPartition],
    load: Load,
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """Every committed record (nothing of an aborted transaction) of the partitions, from
    their beginning to their end as they are now, handed to `load` in each partition's
    order; how many. Records without a key are not state, and skipped."""
    if not tps:
        return 0
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        **(client_options or {}),
    )
    await consumer.start()
    count = 0
    try:
        consumer.assign(list(tps))
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(list(tps))
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for tp, messages in (await consumer.getmany(timeout_ms=500)).items():
                for m in messages:
                    if m.key is not None:
                        load(tp, m.key, m.value)
                        count += 1
        return count
    finally:
        await consumer.stop()
