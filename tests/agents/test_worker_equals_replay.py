"""The worker's handlers, strung together as Kafka would deliver, give what replay gives.

No Kafka here (tests/integration runs the same scenarios on the real worker): the link
handler's records for broker.linked.v1 go on a queue per partition, as the topic would
hold them, and the child handler takes them; the ticker runs on the event clock before
each event and once at `until`. Every scenario file is run both ways and the published
records must be the same, though the order between two children may differ.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agents.child import Ticker, handle_child
from agents.link import handle_accepted
from broker.calendar.clock import EventClock, ManualClock
from broker.config.partnership import load_config
from broker.models.internal import ChildMessage
from broker.pipeline.child_store import ChildStore
from broker.pipeline.engine import replay_lines
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.ingest import Accepted, ingest_json
from broker.pipeline.sink import MemorySink
from broker.pipeline.steps import ingest_step
from broker.topics import ACCEPTED, INTERNAL_TOPICS, LINKED

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.json")) + sorted(
    (ROOT.parent / "shared" / "spec" / "examples").glob("*.json")
)
PARTITIONS = 3
CONFIG = load_config()


class Topology:
    """One worker's stages over in-memory 'topics' and 'tables'."""

    def __init__(self, floor: Path) -> None:
        self.floor = floor
        self.clock = EventClock(floor)
        self.sink = MemorySink()
        self.seen: dict[str, str] = {}
        self.held: dict[str, str] = {}
        self.identity = IdentityStore({})
        self.store = ChildStore({}, {}, {})
        self.ticker = Ticker(self.store, self.sink, self.clock)
        self.delivered = 0

    async def drain(self) -> None:
        """Deliver what was published on broker.linked.v1, partition by partition."""
        queues: dict[int, deque[ChildMessage]] = {p: deque() for p in range(PARTITIONS)}
        while True:
            fresh = self.sink.records[self.delivered :]
            self.delivered = len(self.sink.records)
            for record in fresh:
                if record.topic == LINKED.name:
                    assert isinstance(record.value, ChildMessage)
                    queues[hash(record.key) % PARTITIONS].append(record.value)
            busy = [p for p, q in queues.items() if q]
            if not busy:
                return
            for partition in busy:
                message = queues[partition].popleft()
                await handle_child(message, partition, self.store, self.sink, CONFIG)

    async def submit(self, line: bytes) -> None:
        result = ingest_json(line)
        if not isinstance(result, Accepted):
            when = _recorded_at(line)
            if when is not None:
                self.clock.observe(when)
            for record in ingest_step(result, self.clock.now()).records:
                await self.sink.send(record)
            return
        self.clock.observe(result.event.recorded_at)
        await self.ticker.run_once(set(range(PARTITIONS)))
        await self.drain()
        await handle_accepted(
            result.event,
            result.raw,
            seen=self.seen,
            identity=self.identity,
            held=self.held,
            sink=self.sink,
            clock=self.clock,
        )
        await self.drain()

    async def finish(self, until: datetime | None) -> None:
        if until is not None:
            self.floor.write_text(until.isoformat())
            await self.ticker.run_once(set(range(PARTITIONS)))
            await self.drain()

    def published(self) -> list[str]:
        hidden = INTERNAL_TOPICS | {ACCEPTED.name}
        return sorted(
            json.dumps(r.to_json(), sort_keys=True)
            for r in self.sink.records
            if r.topic not in hidden
        )


def _recorded_at(line: bytes) -> datetime | None:
    try:
        value = datetime.fromisoformat(json.loads(line)["recorded_at"])
    except (ValueError, KeyError, TypeError):
        return None
    return value if value.tzinfo is not None else None


def _lines(scenario: dict[str, Any]) -> list[bytes]:
    return [
        e.encode() if isinstance(e, str) else json.dumps(e).encode() for e in scenario["events"]
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_the_worker_publishes_what_replay_publishes(path: Path, tmp_path: Path) -> None:
    scenario = json.loads(path.read_text())
    until = datetime.fromisoformat(scenario["until"]) if scenario.get("until") else None
    lines = _lines(scenario)
    replayed = sorted(
        json.dumps(r.to_json(), sort_keys=True)
        for r in replay_lines(lines, ManualClock(), until=until)
        if r.topic not in INTERNAL_TOPICS
    )
    topology = Topology(tmp_path / "floor")
    for line in lines:
        await topology.submit(line)
    await topology.finish(until)
    assert topology.published() == replayed
