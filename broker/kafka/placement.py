"""Which partition each record of a loop's transaction goes to, decided before it is sent.

The loops (broker.kafka.link_loop, broker.kafka.child_loop) place their records
themselves, so that they know the last record to each partition (it carries the
closing header: broker.pipeline.offsets). They place them exactly as aiokafka's
`DefaultPartitioner` does, which is the Java client's (murmur2 of the key), as faust's
producer and the faust agents place them: a child's records land on its partition
whichever stage or client wrote them.

aiokafka's murmur2 is pure Python, a loop over the key's bytes, and it ran for every
record a loop sent: 1.7 % of a worker's CPU in a profile (py-spy of `python -m
bench.live --phases worker1 --events 40000`). Most keys come back again and again (a
child's id keys its linked events, its alerts' and its chronology's records), so the
partition of a key is remembered; the state topics' single partition needs no hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner, murmur2

Wired = tuple[str, bytes | None, bytes]
"""A record ready to send: topic, key, value."""
Placed = tuple[str, int, bytes | None, bytes]
"""A record with its partition: topic, partition, key, value."""

KEYS_REMEMBERED = 1 << 16
"""Keys whose hash is kept (a few MiB at most: the keys are child and event ids)."""


@lru_cache(maxsize=KEYS_REMEMBERED)
def _hashed(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def partitioner(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """`DefaultPartitioner()(key, all_partitions, available)`, for `all_partitions` sorted
    by id, a key's hash computed once: a producer's `partitioner` (aiokafka's, and faust's
    `producer_partitioner`), and the loops' own placing."""
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))  # a random one
    if len(all_partitions) == 1:
        return all_partitions[0]
    return all_partitions[_hashed(key) % len(all_partitions)]


def partition_for(key: bytes | None, partitions: Sequence[int]) -> int:
    """Where a loop places a record: any partition may take it."""
    return partitioner(key, partitions, partitions)


async def placed_records(producer: AIOKafkaProducer, wired: Sequence[Wired]) -> list[Placed]:
    """Each record with its partition (see the module's docstring), so that the last
    record to each partition is known before it is sent."""
    partitions = {
        topic: sorted(await producer.partitions_for(topic)) for topic in {t for t, _, _ in wired}
    }
    return [
        (topic, partition_for(key, partitions[topic]), key, value) for topic, key, value in wired
    ]
