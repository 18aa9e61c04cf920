"""A worker SIGKILLed and restarted is processing again within 10 seconds.

It took about a minute: the restarted worker joined its consumer group as a new member,
and Kafka waited for the dead member's session (faust's default, 60 s) to expire before
it gave anyone the partitions ("(Re-)joining group" in the worker's log). Now each worker
is a *static* member (KIP-345, `group.instance.id`, derived from its host and state
directory: broker/app.py): restarted, it takes its own place back and its partitions
with it, with no rebalance. The session timeout is 10 s (MASH_SESSION_TIMEOUT_SECONDS),
so a worker that does not come back holds its partitions no longer than that.

Measured end to end (bench/chaos_group.py): from the kill to the moment an alert is out
for each of 24 probes, RED notices about children spread over every partition, published
just after the kill. Two workers, four partitions, three kills taking turns.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.chaos_group import AlertWatch, Group, Probes, publish, recovery_after, wait
from broker.kafka.local import LocalKafka

KILLS = 3


def test_a_killed_worker_is_processing_again_within_ten_seconds(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    group = Group(own_kafka.bootstrap, tmp_path, count=2, partitions=4)
    probes, watch = Probes(), AlertWatch(own_kafka.bootstrap)
    group.start()
    try:
        asyncio.run(publish(own_kafka.bootstrap, probes.involvements(datetime.now(UTC))))
        first = recovery_after(group, probes, watch, time.monotonic())
        assert first is not None, group.tail()  # the feed works before any fault
        recoveries = []
        for n in range(KILLS):
            worker = group.workers[n % len(group.workers)]
            killed_at = time.monotonic()
            worker.kill()
            worker.start()
            recoveries.append(recovery_after(group, probes, watch, killed_at))
            assert wait(lambda: all(w.ready() for w in group.workers), 60), group.tail()
    finally:
        group.stop()
    print(f"recovery after SIGKILL (s): {recoveries}")
    assert None not in recoveries, group.tail()
    seconds = [r for r in recoveries if r is not None]
    assert statistics.median(seconds) < 10, seconds
    assert max(seconds) < 20, seconds
