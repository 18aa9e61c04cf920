"""Every stage over in-process state: what `mash-broker replay` runs.

The live worker runs the same step functions (broker.pipeline.steps), spread over faust
agents with their state in changelog-backed tables; this class strings them together
in one process so that a scenario file can be checked without Kafka. It holds no rules
of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from broker.clock import ManualClock
from broker.pipeline import dedupe
from broker.pipeline.ingest import Accepted, IngestResult, ingest_json
from broker.pipeline.records import OutRecord
from broker.pipeline.steps import ingest_step, link_step


@dataclass
class EngineState:
    """All the state the stages keep; the worker keeps the same in faust tables."""

    seen: dict[str, str] = field(default_factory=dict)


class Engine:
    def __init__(self, clock: ManualClock, state: EngineState | None = None) -> None:
        self.clock = clock
        self.state = state or EngineState()

    def submit_json(self, raw: bytes) -> list[OutRecord]:
        """One JSON line: the broker's clock moves to its `recorded_at` first."""
        result = ingest_json(raw)
        if isinstance(result, Accepted):
            self.clock.advance_to(result.event.recorded_at)
        return self.submit(result)

    def submit(self, result: IngestResult) -> list[OutRecord]:
        if not isinstance(result, Accepted):
            return ingest_step(result, self.clock.now()).records
        step = link_step(result.event, result.raw, self.state.seen, self.clock.now())
        if step.mark_seen:
            dedupe.mark_seen(self.state.seen, result.event)
        return step.records


def replay_lines(
    lines: Iterable[bytes], clock: ManualClock, until: datetime | None = None
) -> Iterator[OutRecord]:
    """Every line in order, then the clock to `until` (firing the timers due by then)."""
    engine = Engine(clock)
    for line in lines:
        if not line.strip():
            continue
        yield from engine.submit_json(line.rstrip(b"\r\n"))
    if until is not None:
        clock.advance_to(until)
