"""The same stream through one worker and through three gives replay's records.

Three workers in one consumer group share the work: the link stage's single partition
is on one of them (linking is a single writer, docs/identity.md), the children's
partitions (`broker.linked.v1`, six here) and the agencies' are spread over all three,
and merges cross workers. Each worker keeps its own event clock (the latest recorded_at
it has seen, at least the shared floor file); the floor moves to the end only once every
event is processed, so the deadlines still running fire on whichever worker holds the
child. One worker is `test_live_equals_replay.py`; these are the same scenarios, shared.

The synthetic council's stream (many children, every event type, merges, deadlines
met and missed) through three workers is replay's too. It was not, until the child agent
read each child's slot in its own message's context: faust's RocksDB store reads a key
from the current event's partition only, and a batch's reads ran in the context of the
batch's last message written (docs/notes/faust-kafka.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from broker.kafka.local import LocalKafka
from tests.integration.conftest import free_ports
from tests.integration.test_live_equals_replay import (
    SCENARIOS,
    _a_fortnight_after,
    _assert_same,
    _council,
    _publish_one,
    _read_outputs,
    _replayed,
    settled_outputs,
)
from tests.integration.test_operations import counts, get, poll
from tests.integration.worker import WorkerProcess, worker_env

WORKERS = 3
PARTITIONS = "6"


class Group:
    """Three workers of one app, each with its own state directory and web port."""

    def __init__(
        self, bootstrap: str, tmp_path: Path, workers: int = WORKERS, **extra: str
    ) -> None:
        self.floor = tmp_path / "clock-floor"
        app_id = f"mash-three-{uuid.uuid4().hex[:6]}"
        self.ports = free_ports(workers)
        self.processes = []
        for n, port in enumerate(self.ports):
            env = worker_env(bootstrap, tmp_path / f"state-{n}", app_id)
            env.update(
                MASH_CLOCK="event",
                MASH_CLOCK_FLOOR_FILE=str(self.floor),
                MASH_TICK_SECONDS="0.2",
                MASH_WORKER_WEB_PORT=str(port),
                MASH_TOPIC_PARTITIONS=PARTITIONS,
                **({"MASH_BATCH_MAX": b} if (b := os.environ.get("TEST_BATCH_MAX")) else {}),
                **extra,
            )
            self.processes.append(WorkerProcess(env, tmp_path / f"worker-{n}.log"))

    def _metrics(self) -> list[dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
        found = []
        for port in self.ports:
            status, text = get(f"http://127.0.0.1:{port}/metrics")
            found.append(counts(text) if status == 200 else {})
        return found

    def outcomes(self, stage: str) -> float:
        return sum(
            v
            for m in self._metrics()
            for (name, labels), v in m.items()
            if name == "mash_stage_outcomes_total" and dict(labels).get("stage") == stage
        )

    def ready(self) -> bool:
        return all(get(f"http://127.0.0.1:{p}/health/ready")[0] == 200 for p in self.ports)

    def tail(self) -> str:
        return "\n".join(p.tail(15) for p in self.processes)


class _Shown:
    """What `_assert_same` shows of the workers when the records differ."""

    def __init__(self, group: Group) -> None:
        self.process = self

        def tail() -> str:
            return group.tail()

        self.tail = tail


def _through_three_workers(
    bootstrap: str, group: Group, events: list[dict[str, Any]], until: datetime | None
) -> list[str]:
    for process in group.processes:
        process.start()
    assert poll(group.ready, 180), group.tail()
    time.sleep(2.0)  # let the group settle: every worker has its partitions
    assert poll(group.ready, 120), group.tail()
    for number, event in enumerate(events, start=1):
        asyncio.run(_publish_one(bootstrap, event))
        linked = lambda n=number: group.outcomes("link") >= n  # noqa: E731
        assert poll(linked, 60, every=0.05), group.tail()
    # Every event is on broker.linked.v1 now, so any tick sent after this comes after
    # them in the child's partition: the deadlines are judged on the whole history.
    if until is not None:
        group.floor.write_text(until.isoformat())
    time.sleep(1.0)
    read = lambda: asyncio.run(_read_outputs(bootstrap, "read_committed"))  # noqa: E731
    live = settled_outputs(read, 120)
    assert live is not None, group.tail()
    return live


@pytest.mark.parametrize(
    "source",
    [
        "identity_decision_merges",
        "share_decision_tells_the_school_minimised",
        "decision_red_on_friday_at_four_due_monday_noon",
    ],
)
def test_three_workers_publish_what_replay_publishes(
    source: str, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    scenario = json.loads((SCENARIOS / f"{source}.json").read_text())
    events = scenario["events"]
    until = datetime.fromisoformat(scenario["until"]) if scenario.get("until") else None
    replayed = _replayed(events, until)
    group = Group(own_kafka.bootstrap, tmp_path)
    try:
        live = _through_three_workers(own_kafka.bootstrap, group, events, until)
    finally:
        for process in group.processes:
            process.stop()

    _assert_same(live, replayed, tmp_path, _Shown(group))  # type: ignore[arg-type]


@pytest.mark.parametrize("child_stage", ["faust", "loop"])
def test_a_councils_stream_through_three_workers_is_what_replay_publishes(
    child_stage: str, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """With the child stage as the loop too: its partitions' producers and tables spread
    over three workers, taken over in the rebalances as the workers join."""
    events = _council(200)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    assert sum('"mash.alert.v1"' in r for r in replayed) > 10
    group = Group(own_kafka.bootstrap, tmp_path, MASH_CHILD_STAGE=child_stage)
    try:
        live = _through_three_workers(own_kafka.bootstrap, group, events, until)
    finally:
        for process in group.processes:
            process.stop()

    _assert_same(live, replayed, tmp_path, _Shown(group))  # type: ignore[arg-type]
