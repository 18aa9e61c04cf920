"""A deadline that passes while the worker is down fires once, when a worker is back.

On the real Kafka, with the worker on the event clock (`MASH_CLOCK=event`): a RED VIST
on a Friday at 16:00 needs a MASH decision by Monday 12:00. The worker links it and
starts the deadline (no alert yet: nothing is due), then is killed (SIGKILL: no clean
shutdown). While no worker runs, the clock moves past Monday noon. A new worker starts
on an *empty* state directory: the deadline comes back from the child-timers
changelog, the ticker finds it overdue and DECISION_OVERDUE is published, once, equal
to what replay publishes. A third worker after that publishes it no second time.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from datetime import datetime
from pathlib import Path

from broker.calendar.clock import ManualClock
from broker.kafka.local import LocalKafka
from broker.pipeline.engine import replay_lines
from broker.topics import INTERNAL_TOPICS
from tests.integration.conftest import free_ports
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _as_on_the_wire,
    _publish_one,
    _read_outputs,
)
from tests.integration.test_operations import poll
from tests.integration.worker import WorkerProcess

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios"
DEADLINE = datetime.fromisoformat("2026-05-18T12:00:00+01:00")
WHILE_DOWN = datetime.fromisoformat("2026-05-18T13:00:00+01:00")


def rules(records: list[str]) -> list[str]:
    values = [json.loads(r)["value"] for r in records if json.loads(r)["topic"] == "mash.alert.v1"]
    return sorted(v["rule_id"] for v in values)


def worker_on(own: LiveWorker, state: Path, log: Path) -> LiveWorker:
    """Another worker of the same application (same group, same changelogs), on the
    same clock floor file, with its own state directory and web port."""
    again = LiveWorker.__new__(LiveWorker)
    again.floor = own.floor
    [again.port] = free_ports(1)
    env = {**own.process.env, "MASH_STATE_DIR": str(state)}
    env["MASH_WORKER_WEB_PORT"] = str(again.port)
    again.process = WorkerProcess(env, log)
    return again


def test_a_deadline_passed_while_no_worker_ran_fires_once_when_one_is_back(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    scenario = json.loads(
        (SCENARIO / "decision_red_on_friday_at_four_due_monday_noon.json").read_text()
    )
    [notice] = scenario["events"]
    notice["event_id"] = f"pol-down-{uuid.uuid4().hex[:6]}"
    replayed = [
        _as_on_the_wire(r)
        for r in replay_lines([json.dumps(notice).encode()], ManualClock(), until=WHILE_DOWN)
        if r.topic not in INTERNAL_TOPICS
    ]
    [overdue] = [r for r in replayed if '"DECISION_OVERDUE"' in r]
    assert datetime.fromisoformat(json.loads(overdue)["value"]["due_by"]) == DEADLINE

    first = LiveWorker(own_kafka.bootstrap, tmp_path)
    first.process.start()
    try:
        assert poll(first.ready, 90), first.process.tail()
        asyncio.run(_publish_one(own_kafka.bootstrap, notice))
        linked = lambda: sum(first.outcomes("link").values()) >= 1  # noqa: E731
        assert poll(linked, 60, every=0.2), first.process.tail()
        time.sleep(1.0)  # some ticks: the deadline is Monday noon, the clock is Friday 16:00
        assert rules(asyncio.run(_read_outputs(own_kafka.bootstrap))) == []
    finally:
        first.process.stop(signal.SIGKILL)

    first.floor.write_text(WHILE_DOWN.isoformat())  # Monday 13:00 came while nobody ran

    second = worker_on(first, tmp_path / "state-2", tmp_path / "worker-2.log")
    second.process.start()
    try:
        assert poll(second.ready, 90), second.process.tail()
        fired = lambda: "DECISION_OVERDUE" in rules(asyncio.run(_read_outputs(own_kafka.bootstrap)))  # noqa: E731
        assert poll(fired, 60, every=0.5), second.process.tail()
        time.sleep(2.0)  # ten more ticks: nothing fires twice
        live = asyncio.run(_read_outputs(own_kafka.bootstrap))
        assert rules(live) == ["DECISION_OVERDUE"]
        assert overdue in live  # the very alert replay raises, due Monday 12:00
    finally:
        second.process.stop()

    third = worker_on(first, tmp_path / "state-2", tmp_path / "worker-3.log")
    third.process.start()
    try:
        assert poll(third.ready, 90), third.process.tail()
        time.sleep(2.0)
        assert rules(asyncio.run(_read_outputs(own_kafka.bootstrap))) == ["DECISION_OVERDUE"]
    finally:
        third.process.stop()
