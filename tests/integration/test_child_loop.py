"""The child stage as a transactional loop (MASH_CHILD_STAGE=loop) on the real Kafka.

The council's stream through a worker whose child stage is the loop publishes exactly
what replay does, and the MASH page's source, the child-pictures changelog, holds the
pictures replay ends with. A worker switched from the faust agent to the loop (stopped,
switched, started: deploy/README.md) carries on from the agent's tables, which are the
loop's too (broker/kafka/child_state.py): the outputs are replay's, each once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

from broker.kafka.local import LocalKafka
from broker.topics import LINKED
from tests.integration.crashing_worker import CHILD_MARKER
from tests.integration.test_batch_killed_half_sent import _police_notices, _publish_all
from tests.integration.test_link_loop_killed import _outputs
from tests.integration.test_link_loop_migration import _link_one_by_one
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _assert_same,
    _council,
    _publish_one,
    _read_outputs,
    _replayed,
    check_stream,
    settled_outputs,
)
from tests.integration.test_operations import counts, get, poll
from tests.integration.test_workers_equal_replay import Group, _Shown
from tests.integration.worker import CRASHING_WORKER, WorkerProcess

LOOP = {"MASH_CHILD_STAGE": "loop"}


def test_the_councils_stream_through_the_child_loop_is_what_replay_publishes(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    events = _council(200)
    check_stream(
        own_kafka.bootstrap, tmp_path, events, _a_fortnight_after(events), LOOP, _ran_the_loop
    )


def _ran_the_loop(worker: LiveWorker) -> None:
    log = worker.process.log.read_text(errors="replace")
    assert "child loop took its partitions" in log
    assert "child transaction failed" not in log


def _child_caught_up(worker: LiveWorker, seen: list[float]) -> bool:
    """Nothing waits on the inbound topic nor on broker.linked.v1, and the child stage's
    count of outcomes has not moved for three looks."""
    status, text = get(f"http://127.0.0.1:{worker.port}/metrics")
    if status != 200:
        return False
    found = counts(text)
    lag = {dict(k)["topic"]: v for (name, k), v in found.items() if name == "mash_consumer_lag"}
    seen.append(sum(worker.outcomes("child").values()))
    steady = len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3] > 0
    return lag.get("police.vist.v1") == 0 and lag.get(LINKED.name) == 0 and steady


def test_a_child_loop_killed_before_its_commit_leaves_exactly_replays_records(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """The worker SIGKILLs itself in a partition's transaction whose records (alerts,
    notifications, audits) and state changes are sent and acknowledged, after three
    partitions' transactions committed. A normal worker on the same state directory
    aborts it (its producer, with the same transactional id), reads the partition's
    tables from their changelogs (committed: nothing of the batch) and the partition
    from the state's next offset. Read committed, the outputs are replay's, each once:
    not even the at-least-once repeats of the faust agent."""
    bootstrap = own_kafka.bootstrap
    events = _police_notices(600)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    assert sum('"mash.alert.v1"' in r for r in replayed) > 50

    worker = LiveWorker(bootstrap, tmp_path)
    worker.process.env.update(
        LOOP,
        # Batches of at most 50 (the child loop's are the link loop's size): else the whole
        # backlog could go in the first three, and no fourth batch of 8 records ever come
        # (a run did so: ticks only after them, and the worker never killed itself).
        MASH_LINK_BATCH_MAX="50",
        CRASH_AT_BATCH="8",
        CRASH_AFTER_BATCHES="3",
        CRASH_HOW="child",
    )
    asyncio.run(_publish_all(bootstrap, events))
    crashing = WorkerProcess(worker.process.env, tmp_path / "crashing.log", CRASHING_WORKER)
    crashing.start()
    try:
        assert poll(lambda: not crashing.alive(), 180, every=0.2), crashing.tail()
    finally:
        crashing.stop(signal.SIGKILL)  # not left running past the test if it never died
    assert CHILD_MARKER in crashing.log.read_text(), crashing.tail()
    uncommitted = asyncio.run(_read_outputs(bootstrap, "read_uncommitted"))
    cut_off = asyncio.run(_outputs(bootstrap))
    assert len(cut_off) < len(uncommitted)  # the killed batch's, sent and never committed
    assert len(cut_off) < len(replayed)  # it died with work left to do

    worker.process.start()  # a normal worker, on the same state directory
    try:
        assert poll(worker.ready, 120), worker.process.tail()
        looks: list[float] = []
        assert poll(lambda: _child_caught_up(worker, looks), 240, every=1.0), worker.process.tail()
        worker.floor.write_text(until.isoformat())  # only now: the deadlines fire last
        live = settled_outputs(lambda: asyncio.run(_outputs(bootstrap)), 240, set(replayed))
        assert live is not None, worker.process.tail()
    finally:
        worker.process.stop()
    (tmp_path / "live.jsonl").write_text("\n".join(live))
    (tmp_path / "replay.jsonl").write_text("\n".join(replayed))
    assert Counter(live) == Counter(replayed)  # none lost, none changed, none twice


def _settled_child(worker: LiveWorker) -> None:
    looks: list[float] = []
    assert poll(lambda: _child_caught_up(worker, looks), 120, every=1.0), worker.process.tail()


def test_a_worker_switched_to_the_child_loop_carries_on_from_the_agents_tables(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """The first half of a council's stream through the faust agent, the second through
    the loop after a stop and a start: the loop starts from the agent's tables (the same
    changelogs) at the offset the agent kept, so it handles none of the first half again
    (each would be `delivered_again`), and the outputs are replay's, each once."""
    bootstrap = own_kafka.bootstrap
    events = _council(120)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    half = len(events) // 2

    worker = LiveWorker(bootstrap, tmp_path)
    worker.process.env["MASH_CHILD_STAGE"] = "faust"
    worker.process.start()
    try:
        _link_one_by_one(bootstrap, worker, events[:half])
        _settled_child(worker)
    finally:
        worker.process.stop()

    worker.process.env.update(LOOP)
    worker.process.start()
    try:
        _link_one_by_one(bootstrap, worker, events[half:])
        _settled_child(worker)
        worker.floor.write_text(until.isoformat())
        live = settled_outputs(lambda: asyncio.run(_outputs(bootstrap)), 240, set(replayed))
        assert live is not None, worker.process.tail()
        _assert_same(live, replayed, tmp_path, worker)
        assert worker.outcomes("child").get("delivered_again", 0) == 0
        _ran_the_loop(worker)
    finally:
        worker.process.stop()


def _takes(log: str) -> list[dict[str, Any]]:
    """The child loop's 'took its partitions' lines in a worker's JSON log."""
    found = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("msg") == "child loop took its partitions":
            found.append(entry)
    return found


def test_a_worker_stopped_leaves_its_partitions_to_the_other_which_keeps_its_own(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """Two workers whose child stage is the loop share broker.linked.v1's six partitions;
    one is stopped halfway through a council's stream. At the rebalance the other keeps
    the partitions it held (their producers and tables, not read again, sought back to
    their next offsets) and reads only the stopped one's: the outputs are replay's, each
    once."""
    bootstrap = own_kafka.bootstrap
    events = _council(120)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    half = len(events) // 2
    group = Group(bootstrap, tmp_path, workers=2, **LOOP)
    survivor, stopped = group.processes
    try:
        for process in group.processes:
            process.start()
        assert poll(group.ready, 180), group.tail()
        time.sleep(2.0)  # let the group settle: each worker has its partitions
        assert poll(group.ready, 120), group.tail()
        _link_in_order(bootstrap, group, events[:half], 0.0)
        linked_by_stopped = group.outcomes("link")  # the survivor's part is counted again
        mark = len(survivor.log.read_text(errors="replace"))
        stopped.stop()
        linked_by_stopped -= group.outcomes("link")
        _link_in_order(bootstrap, group, events[half:], linked_by_stopped - half)
        group.floor.write_text(until.isoformat())
        read = lambda: asyncio.run(_read_outputs(bootstrap, "read_committed"))  # noqa: E731
        live = settled_outputs(read, 240, set(replayed))
        assert live is not None, group.tail()
        after = _takes(survivor.log.read_text(errors="replace")[mark:])
    finally:
        for process in group.processes:
            process.stop()
    _assert_same(live, replayed, tmp_path, _Shown(group))  # type: ignore[arg-type]
    kept_and_read = [t for t in after if t.get("partitions_kept") and t.get("partitions_read")]
    assert kept_and_read, after  # its own kept, the stopped worker's read


def _link_in_order(
    bootstrap: str, group: Group, events: list[dict[str, Any]], linked_before: float
) -> None:
    """Each event once a worker has linked the one before (a scenario's order);
    `linked_before`: the link outcomes no running worker counts (a stopped worker's),
    less the events published before these."""
    for number, event in enumerate(events, start=1):
        asyncio.run(_publish_one(bootstrap, event))
        done = lambda n=number: group.outcomes("link") + linked_before >= n  # noqa: E731
        assert poll(done, 90, every=0.05), group.tail()
