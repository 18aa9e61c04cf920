"""The link loop killed before a transaction's commit: after a restart, exactly replay's
records, none lost and none twice.

The worker runs the link stage as the transactional loop (MASH_LINK_STAGE=loop). The
crashing worker (tests/integration/crashing_worker.py, `CRASH_HOW=loop`) sends a batch's
records in its transaction, has them acknowledged, waits while the child stage reads
them (faust's consumer reads uncommitted: it is handed the open transaction's messages
on broker.linked.v1) and SIGKILLs itself before the commit. A normal worker then starts
on the same state directory and Kafka: its producer, initialised with the same
transactional id, aborts the open transaction; its loop reads the state topic (read
committed: nothing of the batch) and broker.accepted.v1 from the committed offset, and
links the batch again.

What must hold, and is checked:

- the killed batch's messages are on broker.linked.v1 but were never committed (a
  read_committed consumer sees fewer than a read_uncommitted one);
- every record replay publishes is on the output topics exactly once, and nothing else,
  read committed. No repeats at all, unlike the faust link agent's at-least-once
  (test_batch_killed_half_sent.py): the link stage's own outputs of the killed batch
  were aborted, and what the child stage made of its messages is what it makes of them
  again, once (it applies an event once, by event id, and every output id derives from
  its evidence).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.kafka.local import LocalKafka
from broker.topics import ACCEPTED, INBOUND_TOPICS, LINKED, link_state_topic
from tests.integration.crashing_worker import LOOP_MARKER
from tests.integration.test_batch_killed_half_sent import _police_notices, _publish_all
from tests.integration.test_link_loop_worker import loop_worker
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _read_outputs,
    _replayed,
    settled_outputs,
)
from tests.integration.test_operations import counts, get, poll
from tests.integration.worker import CRASHING_WORKER, WorkerProcess


async def _count(bootstrap: str, topic: str, isolation: str) -> int:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level=isolation,
    )
    await consumer.start()
    found = 0
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            found += sum(len(ms) for ms in batch.values())
    finally:
        await consumer.stop()
    return found


async def _outputs(bootstrap: str) -> list[str]:
    """The output topics as their consumers must read them: committed."""
    return await _read_outputs(bootstrap, "read_committed")


async def _loop_behind(bootstrap: str, app_id: str) -> int:
    """How far the link loop's committed offset is behind broker.accepted.v1's end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{app_id}-link")
    await consumer.start()
    try:
        tp = TopicPartition(ACCEPTED.name, 0)
        end = (await consumer.end_offsets([tp]))[tp]
        return end - ((await consumer.committed(tp)) or 0)
    finally:
        await consumer.stop()


def _caught_up(worker: LiveWorker, seen: list[float]) -> bool:
    """Every inbound topic's lag is 0, the loop has committed broker.accepted.v1 to its
    end, and the child stage's count of outcomes has not moved for three looks (faust's
    lag on broker.linked.v1 counts the last marker)."""
    status, text = get(f"http://127.0.0.1:{worker.port}/metrics")
    if status != 200:
        return False
    lag = {
        dict(k)["topic"]: v for (name, k), v in counts(text).items() if name == "mash_consumer_lag"
    }
    seen.append(sum(worker.outcomes("child").values()))
    app_id = worker.process.env["MASH_APP_ID"]
    behind = asyncio.run(_loop_behind(worker.process.env["MASH_KAFKA_BOOTSTRAP"], app_id))
    steady = len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3] > 0
    inbound = [v for t, v in lag.items() if t in INBOUND_TOPICS]
    return bool(inbound) and not any(inbound) and behind == 0 and steady


def outputs_once_settled(
    worker: LiveWorker, bootstrap: str, until: datetime, replayed: list[str]
) -> list[str]:
    """With the restarted worker running: once it has caught up, the clock moved to `until`
    (only then: the deadlines fire last), every output read committed once settled."""
    looks: list[float] = []
    assert poll(lambda: _caught_up(worker, looks), 240, every=1.0), worker.process.tail()
    worker.floor.write_text(until.isoformat())
    live = settled_outputs(lambda: asyncio.run(_outputs(bootstrap)), 240, set(replayed))
    if live is None:
        unlike = _unlike(asyncio.run(_outputs(bootstrap)), replayed)
        raise AssertionError(f"{unlike}\n{worker.process.tail()}")
    return live


def _unlike(live: list[str], replayed: list[str]) -> str:
    """What a failure's reader needs first: which records are missing or extra, by topic
    (the test's own made-up children, no one's data)."""
    missing = Counter(replayed) - Counter(live)
    extra = Counter(live) - Counter(replayed)

    def by_topic(records: Counter[str]) -> dict[str, int]:
        return dict(Counter(json.loads(r)["topic"] for r in records.elements()))

    first = [r[:400] for r in list(missing)[:3]]
    return f"missing {by_topic(missing)}, extra {by_topic(extra)}; first missing: {first}"


def assert_replays_once(live: list[str], replayed: list[str], tmp_path: Path) -> None:
    """Every record replay publishes, once, and nothing else (both kept for a reader)."""
    _kept_for_a_reader(live, replayed, tmp_path)
    assert Counter(live) == Counter(replayed)  # none lost, none changed, none twice


def assert_replays_at_least_once(live: list[str], replayed: list[str], tmp_path: Path) -> None:
    """The faust agent's outputs are not in a transaction (agents/child.py): killed after
    sending a batch's records and before storing its slots, it sends them again, byte for
    byte, with the ids they had (consumers drop an id they have had). So: every record
    replay publishes, none changed, nothing else, repeats allowed. A merge applied twice
    or lost would change the survivors' alerts and show here."""
    _kept_for_a_reader(live, replayed, tmp_path)
    assert Counter(replayed).most_common(1)[0][1] == 1
    assert sorted(set(live)) == sorted(set(replayed)), "lost or changed records"


def _kept_for_a_reader(live: list[str], replayed: list[str], tmp_path: Path) -> None:
    (tmp_path / "live.jsonl").write_text("\n".join(live))
    (tmp_path / "replay.jsonl").write_text("\n".join(replayed))


def test_a_loop_killed_before_its_commit_leaves_exactly_replays_records(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    events = _police_notices(600)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    assert sum('"mash.alert.v1"' in r for r in replayed) > 50

    worker = loop_worker(own_kafka.bootstrap, tmp_path)
    worker.process.env.update(
        MASH_LINK_BATCH_MAX="50", CRASH_AT_BATCH="20", CRASH_AFTER_BATCHES="3", CRASH_HOW="loop"
    )
    asyncio.run(_publish_all(own_kafka.bootstrap, events))

    crashing = WorkerProcess(worker.process.env, tmp_path / "crashing.log", CRASHING_WORKER)
    crashing.start()
    assert poll(lambda: not crashing.alive(), 180, every=0.2), crashing.tail()
    assert LOOP_MARKER in crashing.log.read_text(), crashing.tail()
    bootstrap = own_kafka.bootstrap
    uncommitted = asyncio.run(_count(bootstrap, LINKED.name, "read_uncommitted"))
    committed = asyncio.run(_count(bootstrap, LINKED.name, "read_committed"))
    assert committed < uncommitted  # the killed batch's messages, sent and never committed
    state = link_state_topic(worker.process.env["MASH_APP_ID"]).name
    assert asyncio.run(_count(bootstrap, state, "read_committed")) > 0  # batches before it
    cut_off = asyncio.run(_outputs(bootstrap))
    assert len(cut_off) < len(replayed)  # it died with work left to do

    worker.process.start()  # a normal worker, on the same state directory
    try:
        assert poll(worker.ready, 120), worker.process.tail()
        live = outputs_once_settled(worker, bootstrap, until, replayed)
    finally:
        worker.process.stop()
    assert_replays_once(live, replayed, tmp_path)
