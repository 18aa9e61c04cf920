"""A worker whose state directory cannot be written stops, its partitions go to the
other worker, and it comes back once the directory can be written: nothing lost,
nothing told twice.

Two workers, four partitions, the real Kafka. Worker 1's state directory is replaced by
a file (bench/chaos_disk.py says why that and not chmod or a tmpfs). It must stop with
exit status 75 and a log line naming the directory; restarted while the directory is
still unwritable (as a supervisor would) it must stop again before joining the group;
probes published meanwhile (RED notices about children on every partition) must all
raise their alerts, so worker 0 has its partitions; with the directory back, a restart
must be ready. Then every probe, before, during and after the fault, has its alert,
no alert says what another says under a second id, and a copy re-sent after the stop
is byte for byte the same. (Against replay, record for record: the same fault in
tests/integration/test_chaos_ci.py.)
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.chaos_compare import read_all
from bench.chaos_disk import EXIT_STATE_UNWRITABLE, unwritable_state
from bench.chaos_group import (
    CODEC,
    PROBE_CHILDREN,
    AlertWatch,
    Group,
    Probes,
    publish,
    recovery_after,
    wait,
)
from broker.kafka.local import LocalKafka
from broker.topics import ALERTS


def test_a_worker_that_cannot_write_its_state_stops_and_comes_back_losing_nothing(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    group = Group(own_kafka.bootstrap, tmp_path, count=2, partitions=4)
    probes, watch = Probes(), AlertWatch(own_kafka.bootstrap)
    group.start()
    try:
        asyncio.run(publish(own_kafka.bootstrap, probes.involvements(datetime.now(UTC))))
        assert recovery_after(group, probes, watch, time.monotonic()) is not None, group.tail()
        fault = unwritable_state(group, 1, probes, watch, datetime.now(UTC))
        after = recovery_after(group, probes, watch, time.monotonic())
        assert wait(lambda: all(w.ready() for w in group.workers), 60), group.tail()
    finally:
        group.stop()
    print(fault.line())
    assert fault.exit_status == EXIT_STATE_UNWRITABLE, group.tail()
    assert fault.stopped_after is not None, group.tail()
    assert fault.stopped_after < 15  # the directory is checked every 5 s
    assert fault.restart_statuses == [EXIT_STATE_UNWRITABLE] * 3, group.tail()
    assert fault.taken_over_after is not None, group.tail()  # worker 0 took its partitions
    assert fault.ready_after is not None, group.tail()
    assert after is not None, group.tail()  # both workers processing again
    assert fault.log_lines >= 4  # the stop and each refused restart said why
    assert fault.as_it_should

    told: set[str] = set()  # events some alert was raised on
    facts: dict[tuple[str, ...], set[str]] = defaultdict(set)  # what an alert says -> ids
    copies: dict[str, set[bytes]] = defaultdict(set)
    for wire in asyncio.run(read_all(own_kafka.bootstrap, [ALERTS.name])):
        alert = CODEC.decode(wire.value).model_dump(mode="json")
        told |= set(alert["triggered_by"])
        facts[(alert["rule_id"], *sorted(alert["triggered_by"]))].add(alert["alert_id"])
        copies[alert["alert_id"]].add(wire.value)
    rounds = range(1, probes.sent + 1)
    probe_ids = {f"probe-{probes.run}-{r}-{n}" for r in rounds for n in range(PROBE_CHILDREN)}
    assert probe_ids <= told  # nothing lost: before, during and after the fault
    assert {len(ids) for ids in facts.values()} == {1}  # nothing told twice under two ids
    assert {len(c) for c in copies.values()} == {1}  # a re-send is the same record
