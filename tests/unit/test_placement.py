"""A loop places each record where aiokafka's (and Java's) default partitioner would:
a child's records must meet on one partition whichever client wrote them."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from broker.app import create_app
from broker.kafka.placement import partition_for, partitioner
from broker.kafka.transactions import transactional_producer
from broker.settings import Settings

keys = st.binary(min_size=0, max_size=64)
partition_lists = st.integers(min_value=1, max_value=64).map(lambda n: list(range(n)))


@given(keys, partition_lists)
def test_the_default_partitioners_choice(key: bytes, partitions: list[int]) -> None:
    assert partition_for(key, partitions) == DefaultPartitioner()(key, partitions, partitions)


@given(keys, partition_lists)
def test_asked_again_the_same(key: bytes, partitions: list[int]) -> None:
    first = partition_for(key, partitions)
    assert partition_for(key, partitions) == first
    assert partition_for(key, [p + 100 for p in partitions]) == first + 100


JAVA_MURMUR2 = {  # Kafka's own test vectors (clients' UtilsTest.testMurmur2), signed ints
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_the_java_clients_placement() -> None:
    """Java's `Utils.toPositive(Utils.murmur2(key)) % n`, from Kafka's own vectors: so a
    change to aiokafka's partitioner and ours together would still fail here."""
    for key, signed in JAVA_MURMUR2.items():
        for n in (1, 2, 3, 6, 12):
            assert partition_for(key, list(range(n))) == (signed & 0x7FFFFFFF) % n


def test_no_key_is_any_partition() -> None:
    assert all(partition_for(None, [3, 4]) in (3, 4) for _ in range(20))


@given(keys, partition_lists)
def test_a_producers_partitioner_chooses_as_the_default(key: bytes, partitions: list[int]) -> None:
    available = partitions[: max(1, len(partitions) // 2)]
    assert partitioner(key, partitions, available) == DefaultPartitioner()(
        key, partitions, available
    )


def test_faust_producer_uses_it() -> None:
    """faust's producer: ingest's sink and the faust agents."""
    app = create_app(Settings(kafka_bootstrap="127.0.0.1:9"))
    assert app.conf.producer_partitioner is partitioner


@pytest.mark.asyncio
async def test_the_loops_producers_use_it() -> None:
    """The loops' transactional producers (made, never started: nothing connects)."""
    producer = transactional_producer("127.0.0.1:9", "t-0", linger_ms=0, batch_bytes=16_384)
    try:
        assert producer._partitioner is partitioner
    finally:
        await producer.stop()
