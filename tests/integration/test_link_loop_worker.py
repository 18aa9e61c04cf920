"""The worker with the link stage as a transactional loop (MASH_LINK_STAGE=loop) on the
real Kafka publishes exactly what replay publishes.

The same scenarios and the same council's stream as test_live_equals_replay.py (whose
worker runs the faust link agent), through `mash-broker worker` with the loop: its own
consumer on broker.accepted.v1, one Kafka transaction per batch holding the outputs,
the state records and the offsets (broker/kafka/link_loop.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.kafka.admin import admin_client, partition_counts
from broker.kafka.local import LocalKafka
from broker.topics import LINKED
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _council,
    check_scenario,
    check_stream,
)

CHOSEN = (
    "identity_decision_merges",
    "identity_contradicting_nhs_number_review",
    "decision_one_minute_late_fires",
    "duplicate_event_is_processed_once",
)


def loop_worker(bootstrap: str, tmp_path: Path) -> LiveWorker:
    worker = LiveWorker(bootstrap, tmp_path)
    worker.process.env["MASH_LINK_STAGE"] = "loop"
    return worker


@pytest.mark.parametrize("name", CHOSEN)
def test_the_loop_worker_publishes_what_replay_publishes(
    name: str, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    check_scenario(own_kafka.bootstrap, tmp_path, name, MASH_LINK_STAGE="loop")


def test_a_councils_stream_through_the_loop_worker_is_what_replay_publishes(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """And faust's committed offsets of broker.linked.v1 keep up with the child stage:
    the loop's transactions leave markers there, which faust passes only when told of
    them (agents.rewind, `_note_markers`); one between two of the stage's batches held
    the commit until the next (faust commits one run of offsets a time), and the
    committed offsets fell minutes behind, all of it read again after a restart."""
    events = _council(300)
    until = _a_fortnight_after(events)
    bootstrap = own_kafka.bootstrap

    def commits_keep_up(worker: LiveWorker) -> None:
        group = worker.process.env["MASH_APP_ID"]
        ends = asyncio.run(_ends(bootstrap))
        deadline = time.monotonic() + COMMIT_SECONDS
        while behind := asyncio.run(_behind(bootstrap, group, ends)):
            assert time.monotonic() < deadline, f"faust's commits behind by {behind}"
            time.sleep(0.5)

    check_stream(
        bootstrap,
        tmp_path,
        events,
        until,
        # faust's commits are the faust child agent's (the child loop keeps its own offsets)
        {"MASH_LINK_STAGE": "loop", "MASH_CHILD_STAGE": "faust"},
        commits_keep_up,
    )


COMMIT_SECONDS = 20.0
"""How long faust may take to commit what the stage handled (it commits every 2.8 s)."""


async def _ends(bootstrap: str) -> dict[TopicPartition, int]:
    """broker.linked.v1's end offsets now."""
    counts = await partition_counts(bootstrap, [LINKED.name])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(LINKED.name, p) for p in range(counts[LINKED.name])]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def _behind(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> dict[int, int]:
    """Per partition, how far faust's committed offset is short of `ends`, less one:
    a partition's last offset may be a marker no message follows yet, which no one can
    know for one. Empty: caught up."""
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=list(ends))
    finally:
        await admin.close()
    found = {tp: committed[tp].offset if tp in committed else -1 for tp in ends}
    return {tp.partition: ends[tp] - found[tp] for tp in ends if found[tp] < ends[tp] - 1}
