"""A loop places each record where aiokafka's (and Java's) default partitioner would:
a child's records must meet on one partition whichever client wrote them."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from broker.kafka.placement import partition_for

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
