"""A batch cut off half-sent by SIGKILL: after a restart, every record is replay's.

The worker takes messages in batches and sends a batch's records together
(docs/notes/faust-kafka.md). The worst moment to die is half-way through that send:
some records are acknowledged by Kafka, the rest never leave, the state (pictures,
seen events) is not written and no offset is committed. The crashing worker
(tests/integration/crashing_worker.py) dies exactly there; a normal worker then starts
on the same state directory and Kafka.

What must hold, and is checked: nothing lost and nothing changed (every record replay
publishes is on the topics, and nothing else is); the only repeats are the records of
the half-sent batch sent again byte for byte, with the ids they had (at-least-once:
consumers drop an id they have had; why not Kafka transactions: the note above).

All events are police notices on one topic of one partition, published before the worker
starts, so that the worker reads them in the order replay does and in full batches.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from bench.council import Council
from broker.errors import InvalidInput
from broker.kafka.admin import create_topics
from broker.kafka.local import LocalKafka
from broker.kafka.publish import partition_key
from broker.models.events import parse_event
from broker.topics import all_topics
from tests.integration.crashing_worker import HUNG, MARKER, RAISED
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _read_outputs,
    _replayed,
    settled_outputs,
)
from tests.integration.test_operations import counts, get, poll
from tests.integration.worker import CODEC, CRASHING_WORKER, WorkerProcess

BATCH = 100


AGENT_SINK = {"MASH_CHILD_STAGE": "faust"}
"""The alerts' batches must pass the worker's sink, which the crashing worker wraps: the
faust child agent's way. The child loop sends its records in its own transactions, and
nothing of a half-sent one is ever read: its kill is tests/integration/test_child_loop.py's."""


def _police_notices(count: int) -> list[dict[str, Any]]:
    found = []
    for line in Council(seed=11, events=count * 3).lines():
        try:
            event = json.loads(line)
            model = parse_event(event)
        except (ValueError, InvalidInput):
            continue
        if model.event_type == "police.vist":
            found.append(event)
    return found[:count]


async def _publish_all(bootstrap: str, events: list[dict[str, Any]]) -> None:
    await create_topics(bootstrap, all_topics(), partitions=1, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = []
        for event in events:
            model = parse_event(event)
            value = CODEC.encode(model, topic="police.vist.v1")
            key = partition_key(model).encode()
            sent.append(await producer.send("police.vist.v1", value, key=key))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def _caught_up(worker: LiveWorker) -> bool:
    """Every partition the worker reads is processed to its end (committed)."""
    status, text = get(f"http://127.0.0.1:{worker.port}/metrics")
    if status != 200:
        return False
    lag = {
        dict(labels)["topic"]: v
        for (name, labels), v in counts(text).items()
        if name == "mash_consumer_lag"
    }
    return {"police.vist.v1", "broker.linked.v1"} <= set(lag) and not any(lag.values())


@pytest.mark.parametrize(("how", "marker"), [("kill", MARKER), ("raise", RAISED)])
def test_a_batch_killed_half_sent_leaves_exactly_replays_records(
    own_kafka: LocalKafka, tmp_path: Path, how: str, marker: str
) -> None:
    """`kill`: SIGKILL half-way through the send. `raise`: a fault of our own escapes the
    batch half-way; the worker stops by itself (faust would have restarted the agent in
    the process without the batch: those events never processed, the partition stalled)."""
    events = _police_notices(600)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    assert sum('"mash.alert.v1"' in r for r in replayed) > 50

    worker = LiveWorker(own_kafka.bootstrap, tmp_path)
    worker.process.env.update(
        MASH_BATCH_MAX=str(BATCH), CRASH_AT_BATCH="20", CRASH_HOW=how, **AGENT_SINK
    )
    asyncio.run(_publish_all(own_kafka.bootstrap, events))

    crashing = WorkerProcess(worker.process.env, tmp_path / "crashing.log", CRASHING_WORKER)
    crashing.start()
    try:
        assert poll(lambda: not crashing.alive(), 180, every=0.2), crashing.tail()
    finally:
        crashing.stop(signal.SIGKILL)  # if it never came to die: not left running after
    assert marker in crashing.log.read_text(), crashing.tail()
    cut_off = asyncio.run(_read_outputs(own_kafka.bootstrap))
    assert 0 < len(cut_off) < len(replayed)  # it died with work left to do

    _restarted_gives_replay(worker, own_kafka, tmp_path, until, replayed, cut_off)


def _restarted_gives_replay(
    worker: LiveWorker,
    own_kafka: LocalKafka,
    tmp_path: Path,
    until: Any,
    replayed: list[str],
    cut_off: list[str],
) -> None:
    """A normal worker on the same state directory and Kafka: exactly replay's records;
    the only repeats are records sent before the cut, sent again whole."""
    worker.process.start()  # a normal worker, on the same state directory
    try:
        assert poll(worker.ready, 120), worker.process.tail()
        assert poll(lambda: _caught_up(worker), 240, every=0.5), worker.process.tail()
        worker.floor.write_text(until.isoformat())  # only now: the deadlines fire last
        live = settled_outputs(
            lambda: asyncio.run(_read_outputs(own_kafka.bootstrap)), 240, set(replayed)
        )
        assert live is not None, worker.process.tail()
    finally:
        worker.process.stop()
    (tmp_path / "live.jsonl").write_text("\n".join(live))
    (tmp_path / "replay.jsonl").write_text("\n".join(replayed))

    assert sorted(set(live)) == sorted(set(replayed)), "lost or changed records"
    assert Counter(replayed).most_common(1)[0][1] == 1
    repeats = Counter(live) - Counter(replayed)
    assert repeats  # the half that was sent is sent again, whole: the batch was cut off
    assert sum(repeats.values()) <= BATCH * 4  # at most the cut-off batch, sent again
    assert all(r in cut_off for r in repeats)  # only what had been sent before the kill


def test_a_worker_stuck_mid_batch_is_found_stuck_and_its_restart_loses_nothing(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """The stage waits for ever half-way through its send (`CRASH_HOW=hang`): the worker
    answers and stays ready, and handles nothing more. The watchdog says so once, with
    where it waits, and liveness fails (Kubernetes then restarts it: here, a SIGKILL and
    a normal worker), and the restarted worker gives exactly replay's records."""
    events = _police_notices(600)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)

    worker = LiveWorker(own_kafka.bootstrap, tmp_path)
    worker.process.env.update(
        MASH_BATCH_MAX=str(BATCH),
        CRASH_AT_BATCH="20",
        CRASH_HOW="hang",
        MASH_STUCK_SECONDS="8",
        **AGENT_SINK,
    )
    asyncio.run(_publish_all(own_kafka.bootstrap, events))
    hanging = WorkerProcess(worker.process.env, tmp_path / "hanging.log", CRASHING_WORKER)
    live_url = f"http://127.0.0.1:{worker.port}/health/live"
    hanging.start()
    try:
        assert poll(lambda: HUNG in hanging.log.read_text(), 180, every=0.2), hanging.tail()
        assert get(live_url)[0] == 200  # hung a moment ago: not yet judged
        assert poll(lambda: get(live_url)[0] == 503, 60, every=0.5), hanging.tail()
        assert json.loads(get(live_url)[1])["stuck"] is True
        assert hanging.alive()  # it answers: only the watchdog can tell
        said = [
            json.loads(line) for line in hanging.log.read_text().splitlines() if "stuck" in line
        ]
        (stuck,) = [s for s in said if s.get("logger") == "broker.ops.watchdog"]
        assert stuck["level"] == "error"
        assert stuck["count"] > 0
        waiting_in = [f for task in stuck["tasks"] for f in task["frames"]]
        assert any(f.startswith("crashing_worker.py:") for f in waiting_in)
        _, metrics = get(f"http://127.0.0.1:{worker.port}/metrics")
        assert counts(metrics)[("mash_worker_stuck", ())] == 1
    finally:
        hanging.stop(signal.SIGKILL)  # what the orchestrator does to a worker not live
    cut_off = asyncio.run(_read_outputs(own_kafka.bootstrap))
    assert 0 < len(cut_off) < len(replayed)

    _restarted_gives_replay(worker, own_kafka, tmp_path, until, replayed, cut_off)
