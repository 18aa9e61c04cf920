"""The worker's consumer reads a never-committed partition of its sources from the
beginning whenever faust seeks back to the committed offsets (broker.kafka.transport)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from faust.transport.drivers import aiokafka as driver
from faust.types import TP
from hypothesis import given, settings
from hypothesis import strategies as st
from intervaltree import IntervalTree

from broker.app import create_app
from broker.kafka.transport import Consumer, never_committed
from broker.settings import Settings


def test_only_sources_never_committed_are_read_again() -> None:
    vist = [TopicPartition("police.vist.v1", p) for p in range(4)]
    changelog = TopicPartition("mash-broker-child-pictures-changelog", 0)
    committed = {vist[0]: 17, vist[1]: None, vist[2]: 0, vist[3]: 1, changelog: None}
    assert never_committed(committed, {"police.vist.v1"}) == [vist[1], vist[2]]


def test_every_partition_committed_leaves_nothing_to_read_again() -> None:
    tp = TopicPartition("police.vist.v1", 0)
    assert never_committed({tp: 5}, {"police.vist.v1"}) == []


def test_the_worker_app_consumes_with_that_consumer() -> None:
    app = create_app(Settings())
    assert type(app.transport).Consumer is Consumer


def offsets_only() -> Consumer:
    """The worker's consumer with only faust's bookkeeping of offsets (as its
    `__init__` makes it): no app, no event loop, no connection."""
    consumer = Consumer.__new__(Consumer)
    consumer._gap = defaultdict(IntervalTree)
    consumer._acked = defaultdict(list)
    consumer._acked_index = defaultdict(set)
    consumer._committed_offset = defaultdict(lambda: None)
    return consumer


@pytest.mark.asyncio
async def test_faust_commits_past_every_marker_between_messages_in_one_commit() -> None:
    """broker.linked.v1 as the link loop writes it: a transaction's marker after each
    record (offsets 1, 3, 5, 7 hold none). faust's consumer notes each gap as it
    fetches (`_drain_messages`: `_add_gap(tp, last + 1, offset)`), the messages are
    acknowledged, and one commit passes them all. faust's own gap held the message's
    offset too, twice in the acknowledged offsets, and it committed 3, then 5, ..."""
    consumer = offsets_only()
    tp = TopicPartition("broker.linked.v1", 0)
    last = None
    for offset in (0, 2, 4, 6, 8):
        if last is not None and offset - last > 1:
            await consumer._add_gap(tp, last + 1, offset)  # as _drain_messages calls it
        consumer._acked[tp].append(offset)  # as `ack` keeps it
        consumer._acked_index[tp].add(offset)
        last = offset
    assert consumer._new_offset(tp) == 9


@pytest.mark.asyncio
async def test_a_marker_the_stage_reports_is_passed_like_one_faust_saw() -> None:
    consumer = offsets_only()
    tp = TopicPartition("broker.linked.v1", 0)
    for offset in (0, 2):
        consumer._acked[tp].append(offset)
        consumer._acked_index[tp].add(offset)
    await consumer.no_records_in(tp, 1, 2)
    await consumer._add_gap(tp, 1, 2)  # and faust too: the same gap, no duplicate
    assert consumer._new_offset(tp) == 3


def covered(tree: IntervalTree) -> set[int]:
    return {offset for interval in tree for offset in range(interval.begin, interval.end)}


@pytest.mark.asyncio
@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(
        st.tuples(st.integers(0, 60), st.integers(1, 4)).map(lambda g: (g[0], g[0] + g[1])),
        max_size=30,
    ),
    committed=st.none() | st.integers(0, 40),
)
async def test_gaps_are_kept_as_faust_keeps_them_without_rebuilding_the_tree(
    gaps: list[tuple[int, int]], committed: int | None
) -> None:
    """The cheaper `_add_gap` (a gap noted already changes nothing, a new one merged only
    when it overlaps) leaves the same offsets in the gap as faust's own, with its
    intervals apart, and so the same commit; gaps reported twice among them."""
    ours, faust_s = offsets_only(), offsets_only()
    tp = TopicPartition("broker.linked.v1", 0)
    for consumer in (ours, faust_s):
        consumer._committed_offset[tp] = committed
    for start, end in [*gaps, *gaps[:3]]:
        await ours._add_gap(tp, start, end)
        await driver.Consumer._add_gap(faust_s, tp, start, end - 1)  # faust's, inclusive
    assert covered(ours._gap[tp]) == covered(faust_s._gap[tp])
    intervals = sorted(ours._gap[tp])
    assert all(a.end <= b.begin for a, b in pairwise(intervals))
    acked = [o for o in range(70) if o not in covered(faust_s._gap[tp]) and o % 3 == 0]
    for consumer in (ours, faust_s):
        consumer._acked[tp] = list(acked)
        consumer._acked_index[tp] = set(acked)
    assert ours._new_offset(tp) == faust_s._new_offset(tp)


@pytest.mark.asyncio
async def test_a_seek_back_inside_a_fetch_reads_the_partition_again_from_there(
    tmp_path: Path,
) -> None:
    """faust's own loop (`_drain_messages`) over two fetches. While it hands on the first
    (586-588), the child stage finds 113 never handed and seeks back there
    (agents.rewind). The second fetch begins at 113: its messages reach the stage.
    faust's read offset had been moved past the seek by 587 and 588, and dropped them."""
    app = create_app(Settings(state_dir=tmp_path))
    consumer = app.consumer
    assert isinstance(consumer, Consumer)
    tp = TP("broker.linked.v1", 0)
    fetches = [[586, 587, 588], [113, 114]]
    fetcher = SimpleNamespace(_stopped=asyncio.Event())
    handed: list[int] = []
    sought: list[int] = []

    async def next_records(timeout: float) -> tuple[dict[Any, list[Any]], set[Any]]:
        if not fetches:
            fetcher._stopped.set()
            return {}, {tp}
        return {tp: [record(tp, offset) for offset in fetches.pop(0)]}, {tp}

    async def on_message(message: Any) -> None:
        handed.append(message.offset)
        if message.offset == 586:
            await consumer.seek(tp, 113)

    async def seek_in_kafka(partition: Any, offset: int) -> None:
        sought.append(offset)

    consumer._wait_next_records = next_records  # type: ignore[method-assign]
    consumer._seek = seek_in_kafka  # type: ignore[method-assign]
    consumer.highwater = lambda tp: 600  # type: ignore[method-assign]
    consumer.callback = on_message
    consumer.can_resume_flow.set()

    try:
        await consumer._drain_messages(fetcher)  # type: ignore[arg-type]
    finally:
        consumer._thread.thread_loop.close()  # made for a thread never started

    assert sought == [113]
    assert handed == [586, 587, 588, 113, 114]


def record(tp: TP, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"child-x",
        value=b"",
        checksum=None,
        serialized_key_size=7,
        serialized_value_size=0,
        headers=[],
    )
