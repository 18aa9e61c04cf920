"""Why the worker's producers do not linger (`producer_linger_seconds` 0): a batch handed
to aiokafka's producer without yielding leaves in one request per leader anyway.

Every stage (the ingest, link and child loops, and `Sink.send_all`) appends a whole
batch's records before it awaits anything, and aiokafka's sender runs only when the
stage yields. So the sender finds the whole batch in its accumulator and drains it in
one go: a batch per partition, one produce request per broker. A linger could gather
nothing more; it only held each hop's records back (docs/notes/faust-kafka.md, "No
linger"). These tests hold aiokafka to that, at its accumulator, where the sender
takes its requests from; tests/unit/test_kafka_sink.py holds the sink to handing a batch
over in one go.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition
from aiokafka.producer.message_accumulator import MessageAccumulator

ALERTS_0 = TopicPartition("mash.alert.v1", 0)
ALERTS_3 = TopicPartition("mash.alert.v1", 3)
AUDIT_1 = TopicPartition("audit.disclosure.v1", 1)
LEADER = 1


class OneBroker:
    """The cluster's metadata as the accumulator asks for it: every partition led by
    one broker, as on the local Kafka and for many partitions on a real cluster."""

    def leader_for_partition(self, tp: TopicPartition) -> int:
        return LEADER


def accumulator() -> MessageAccumulator:
    return MessageAccumulator(OneBroker(), 262_144, 0, 30.0, linger_ms=0)


@pytest.mark.asyncio
async def test_a_batch_handed_over_without_yielding_is_drained_whole() -> None:
    records = accumulator()
    partitions = [ALERTS_0, ALERTS_3, AUDIT_1]
    for n in range(40):  # as a stage hands a batch over: no await that yields between
        for tp in partitions:
            await records.add_message(tp, b"child-%d" % n, b"x" * 300, timeout=1.0)

    requests, unknown_leaders = records.drain_by_nodes(ignore_nodes=[])

    assert not unknown_leaders
    assert list(requests) == [LEADER]  # the sender makes one produce request of these
    drained = {tp: batch.record_count for tp, batch in requests[LEADER].items()}
    assert drained == dict.fromkeys(partitions, 40)


@pytest.mark.asyncio
async def test_without_a_linger_records_handed_over_after_a_yield_go_in_the_next_request() -> None:
    """What a linger was for: a stage that yielded between records (as faust's agents
    did) had them drained a few at a time. The stages no longer do."""
    records = accumulator()
    await records.add_message(ALERTS_0, b"first", b"x", timeout=1.0)
    await asyncio.sleep(0)  # the sender's turn
    first, _ = records.drain_by_nodes(ignore_nodes=[])
    await records.add_message(ALERTS_0, b"second", b"x", timeout=1.0)
    second, _ = records.drain_by_nodes(ignore_nodes=[])

    assert first[LEADER][ALERTS_0].record_count == 1
    assert second[LEADER][ALERTS_0].record_count == 1
