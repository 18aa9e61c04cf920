"""The live worker on the real Kafka publishes exactly what replay publishes.

Each scenario gets a Kafka of its own (identities and the clock must not leak from one
scenario to the next) and a worker on the event clock (`MASH_CLOCK=event`): its time is
the latest recorded_at it has seen, and at the end the test writes the scenario's
`until` to the clock's floor file, so the deadlines due by then fire through the
worker's own ticker. Events are published one at a time, each once the worker has
linked the one before: agencies' topics are read in no particular order between them,
and a scenario's meaning depends on its order (the decision after the notice).
Timers, merges and shares all cross the real topics and the rocksdb tables.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.chaos import council_events
from broker.calendar.clock import ManualClock
from broker.kafka.local import LocalKafka
from broker.kafka.publish import partition_key
from broker.models.events import parse_event
from broker.pipeline.engine import replay_lines
from broker.pipeline.records import OutRecord
from broker.topics import INBOUND_TOPICS, INTERNAL_TOPICS, all_topics, topic_for_event_type
from tests.integration.conftest import free_ports
from tests.integration.test_operations import counts, get, poll
from tests.integration.worker import CODEC, WorkerProcess, worker_env

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
CHOSEN = (
    "decision_one_minute_late_fires",
    "decision_red_on_friday_at_four_due_monday_noon",
    "school_file_transferred_a_minute_late",
    "strategy_discussion_overdue",
    "identity_decision_merges",
    "identity_contradicting_nhs_number_review",
    "share_decision_tells_the_school_minimised",
    "duplicate_event_is_processed_once",
)
OUTPUTS = [t.name for t in all_topics() if not t.internal and t.name not in INBOUND_TOPICS]


class LiveWorker:
    def __init__(self, bootstrap: str, tmp_path: Path) -> None:
        self.floor = tmp_path / "clock-floor"
        [self.port] = free_ports(1)
        env = worker_env(bootstrap, tmp_path / "state", f"mash-eq-{uuid.uuid4().hex[:6]}")
        env.update(
            MASH_CLOCK="event",
            MASH_CLOCK_FLOOR_FILE=str(self.floor),
            MASH_TICK_SECONDS="0.2",
            MASH_WORKER_WEB_PORT=str(self.port),
        )
        self.process = WorkerProcess(env, tmp_path / "worker.log")

    def ready(self) -> bool:
        return get(f"http://127.0.0.1:{self.port}/health/ready")[0] == 200

    def outcomes(self, stage: str) -> dict[str, float]:
        status, text = get(f"http://127.0.0.1:{self.port}/metrics")
        if status != 200:
            return {}
        found = counts(text)
        return {
            dict(labels)["outcome"]: v
            for (name, labels), v in found.items()
            if name == "mash_stage_outcomes_total" and dict(labels).get("stage") == stage
        }


async def _publish_one(bootstrap: str, event: dict[str, Any]) -> None:
    model = parse_event(event)
    topic = topic_for_event_type(model.event_type)
    assert topic is not None
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        value = CODEC.encode(model, topic=topic)
        await producer.send_and_wait(topic, value, key=partition_key(model).encode())
    finally:
        await producer.stop()


async def _read_outputs(bootstrap: str, isolation: str = "read_uncommitted") -> list[str]:
    consumer = AIOKafkaConsumer(
        *OUTPUTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        isolation_level=isolation,
    )
    await consumer.start()
    found: list[str] = []
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            for messages in batch.values():
                for m in messages:
                    decoded = CODEC.decode(m.value or b"").model_dump(mode="json")
                    key = m.key.decode() if m.key is not None else None
                    record = {"topic": m.topic, "key": key, "value": decoded}
                    found.append(json.dumps(record, sort_keys=True))
    finally:
        await consumer.stop()
    return sorted(found)


def _as_on_the_wire(record: OutRecord) -> str:
    """A replayed record as a consumer reads it off Kafka (times in UTC, say)."""
    value = CODEC.decode(CODEC.encode(record.value)).model_dump(mode="json")
    return json.dumps({"topic": record.topic, "key": record.key, "value": value}, sort_keys=True)


def _live_records(
    bootstrap: str,
    worker: LiveWorker,
    events: list[dict[str, Any]],
    until: datetime | None,
    halfway: Callable[[], None] | None = None,
) -> list[str]:
    """Publish the events one at a time (each once the worker has linked the one before),
    move the clock to `until`, and read every output once the topics have settled.
    `halfway` runs before the middle event is published (then the worker must be ready
    again before it goes on)."""
    assert poll(worker.ready, 90), worker.process.tail()
    for number, event in enumerate(events, start=1):
        if halfway is not None and number == len(events) // 2:
            halfway()
            assert poll(worker.ready, 120), worker.process.tail()
        asyncio.run(_publish_one(bootstrap, event))
        done = lambda n=number: sum(worker.outcomes("link").values()) >= n  # noqa: E731
        assert poll(done, 60, every=0.05), worker.process.tail()
    if until is not None:
        worker.floor.write_text(until.isoformat())
    time.sleep(1.0)
    live = settled_outputs(lambda: asyncio.run(_read_outputs(bootstrap)), 120)
    assert live is not None, worker.process.tail()
    return live


def settled_outputs(
    read: Callable[[], list[str]], timeout: float, expected: set[str] | None = None
) -> list[str] | None:
    """The outputs once three reads in a row agree (and hold every `expected` record);
    None if they do not within `timeout` seconds."""
    previous: list[list[str]] = []

    def settled() -> bool:
        previous.append(read())
        if expected is not None and not expected <= set(previous[-1]):
            return False
        return len(previous) >= 3 and previous[-1] == previous[-2] == previous[-3]

    return previous[-1] if poll(settled, timeout, every=0.5) else None


def _replayed(events: list[dict[str, Any]], until: datetime | None) -> list[str]:
    lines = [json.dumps(e).encode() for e in events]
    return sorted(
        _as_on_the_wire(r)
        for r in replay_lines(lines, ManualClock(), until=until)
        if r.topic not in INTERNAL_TOPICS
    )


def _assert_same(live: list[str], replayed: list[str], tmp_path: Path, worker: LiveWorker) -> None:
    (tmp_path / "live.jsonl").write_text("\n".join(live))  # kept for a failure's reader
    (tmp_path / "replay.jsonl").write_text("\n".join(replayed))
    only_live = [r for r in live if r not in replayed]
    only_replay = [r for r in replayed if r not in live]
    assert (only_live, only_replay) == ([], []), worker.process.tail()
    assert live == replayed  # the same records, the same number of times


@pytest.mark.parametrize("name", CHOSEN)
def test_live_worker_publishes_what_replay_publishes(
    name: str, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    check_scenario(own_kafka.bootstrap, tmp_path, name)


def check_scenario(bootstrap: str, tmp_path: Path, name: str, **env: str) -> None:
    """A scenario through a worker (with `env`, e.g. MASH_LINK_STAGE) is replay's."""
    scenario = json.loads((SCENARIOS / f"{name}.json").read_text())
    until = datetime.fromisoformat(scenario["until"]) if scenario.get("until") else None
    check_stream(bootstrap, tmp_path, scenario["events"], until, env)


def check_stream(
    bootstrap: str,
    tmp_path: Path,
    events: list[dict[str, Any]],
    until: datetime | None,
    env: dict[str, str] | None = None,
    then: Callable[[LiveWorker], None] = lambda worker: None,
) -> None:
    """The stream through a live worker publishes what replay does; `then` checks the
    worker further while it still runs."""
    replayed = _replayed(events, until)
    worker = LiveWorker(bootstrap, tmp_path)
    worker.process.env.update(env or {})
    worker.process.start()
    try:
        live = _live_records(bootstrap, worker, events, until)
        _assert_same(live, replayed, tmp_path, worker)
        then(worker)
    finally:
        worker.process.stop()


def _council(events: int) -> list[dict[str, Any]]:
    """The benchmark's council (bench/council.py), less the lines it spoils on purpose
    (ingest's business, tested elsewhere): many children, every event type, records that
    link without identifiers, re-sends of the same event, deadlines met and missed."""
    found = council_events(5, events)
    assert len(found) > 0.95 * events
    return found


def _a_fortnight_after(events: list[dict[str, Any]]) -> datetime:
    """So that the deadlines still running at the end fire too."""
    return max(datetime.fromisoformat(e["recorded_at"]) for e in events) + timedelta(days=14)


def test_a_synthetic_councils_stream_through_the_live_worker_is_what_replay_publishes(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """The hand-written scenarios test each rule; this tests them together."""
    events = _council(300)
    until = _a_fortnight_after(events)
    assert sum('"mash.alert.v1"' in r for r in _replayed(events, until)) > 20
    check_stream(own_kafka.bootstrap, tmp_path, events, until)


def test_after_kafka_restarts_mid_stream_every_record_is_still_replays(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """Kafka stops half-way through the council's stream (the worker keeps running,
    retrying) and comes back on its own data: every record is still exactly replay's,
    none lost, none changed, none twice."""
    events = _council(200)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)

    def restart_kafka() -> None:
        own_kafka.stop()
        time.sleep(3)
        own_kafka.start()

    worker = LiveWorker(own_kafka.bootstrap, tmp_path)
    worker.process.start()
    try:
        live = _live_records(own_kafka.bootstrap, worker, events, until, halfway=restart_kafka)
        _assert_same(live, replayed, tmp_path, worker)
        assert worker.process.alive()
    finally:
        worker.process.stop()
