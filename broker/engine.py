"""Every stage over in-process state: what `mash-broker replay` runs.

The live worker runs the same step functions (broker.pipeline.steps, broker.rules),
spread over faust agents with their state in changelog-backed tables; this class strings
them together in one process so that a scenario file can be checked without Kafka. It
holds no rules of its own: it keeps the pictures, moves the clock, fires timers when the
clock passes them, and hands each linked event to `broker.rules.process`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from broker.clock import ManualClock
from broker.config import PartnershipConfig, load_config
from broker.identity import IdentityIndex
from broker.models import Event
from broker.picture import ChildPicture, merge_pictures
from broker.pipeline import dedupe
from broker.pipeline.ingest import Accepted, IngestResult, ingest_json
from broker.pipeline.records import OutRecord
from broker.pipeline.steps import ingest_step, link_step
from broker.rules import fire_due, process


@dataclass
class EngineState:
    """All the state the stages keep; the worker keeps the same in faust tables."""

    seen: dict[str, str] = field(default_factory=dict)
    index: IdentityIndex = field(default_factory=IdentityIndex)
    held: dict[str, str] = field(default_factory=dict)
    """event_id -> event JSON, for events held unlinked until a person decides."""
    pictures: dict[str, ChildPicture] = field(default_factory=dict)
    next_due: dict[str, datetime] = field(default_factory=dict)
    """child id -> when its earliest timer falls due (only children with timers)."""


class Engine:
    def __init__(
        self,
        clock: ManualClock,
        state: EngineState | None = None,
        config: PartnershipConfig | None = None,
    ) -> None:
        self.clock = clock
        self.state = state or EngineState()
        self.config = config or load_config()

    def submit_json(self, raw: bytes) -> list[OutRecord]:
        """One JSON line: the broker's clock moves to its `recorded_at` first."""
        result = ingest_json(raw)
        if isinstance(result, Accepted):
            self.clock.advance_to(result.event.recorded_at)
        elif (instant := _readable_recorded_at(raw)) is not None:
            self.clock.advance_to(instant)  # a refused event is refused at its own time
        return self.submit(result)

    def submit(self, result: IngestResult) -> list[OutRecord]:
        if not isinstance(result, Accepted):
            return ingest_step(result, self.clock.now()).records
        now = self.clock.now()
        records = self.fire_timers(before=now)
        step = link_step(
            result.event,
            result.raw,
            self.state.seen,
            now,
            index=self.state.index,
            held=self.state.held,
        )
        if step.mark_seen:
            dedupe.mark_seen(self.state.seen, result.event)
        if step.outcome == "identity_decision":
            self._join_merged_children()
        records += step.records
        for linked in step.linked:
            records += self._process(linked.child_id, linked.event, linked.note)
        return records

    def fire_timers(self, *, before: datetime, inclusive: bool = False) -> list[OutRecord]:
        """Fire every child's timers due before `before`, earliest child first."""
        records: list[OutRecord] = []
        due = sorted(
            (when, child)
            for child, when in self.state.next_due.items()
            if when < before or (inclusive and when == before)
        )
        for _, child_id in due:
            outcome = fire_due(
                self.state.pictures[child_id],
                before=before,
                inclusive=inclusive,
                config=self.config,
            )
            self._store(outcome.picture)
            records += outcome.records
        return records

    def _process(self, child_id: str, event: Event, link_note: str) -> list[OutRecord]:
        outcome = process(
            self.state.pictures.get(child_id),
            event,
            child_id=child_id,
            link_note=link_note,
            now=self.clock.now(),
            config=self.config,
        )
        self._store(outcome.picture)
        return outcome.records

    def _join_merged_children(self) -> None:
        """After a person decided that children are one, their pictures become one
        (under the id the identity index keeps), so their histories count together."""
        index = self.state.index
        for child_id in list(self.state.pictures):
            if child_id not in index or (survivor := index.resolve(child_id)) == child_id:
                continue
            other = self.state.pictures.pop(child_id)
            self.state.next_due.pop(child_id, None)
            kept = self.state.pictures.get(survivor)
            if kept is None:
                kept = other.model_copy(update={"child_id": survivor})
            else:
                kept = merge_pictures(kept, other)
            self._store(kept)

    def _store(self, picture: ChildPicture) -> None:
        self.state.pictures[picture.child_id] = picture
        due = picture.next_due()
        if due is None:
            self.state.next_due.pop(picture.child_id, None)
        else:
            self.state.next_due[picture.child_id] = due


def _readable_recorded_at(raw: bytes) -> datetime | None:
    """The `recorded_at` of a refused line, when it can be read as an aware instant."""
    try:
        data = json.loads(raw)
        text = data.get("recorded_at") if isinstance(data, dict) else None
        instant = datetime.fromisoformat(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return None
    return instant if instant is not None and instant.utcoffset() is not None else None


def replay_lines(
    lines: Iterable[bytes],
    clock: ManualClock,
    until: datetime | None = None,
    config: PartnershipConfig | None = None,
) -> Iterator[OutRecord]:
    """Every line in order, then the clock to `until` (firing the timers due by then)."""
    yield from replay_engine(Engine(clock, config=config), lines, until)


def replay_engine(
    engine: Engine, lines: Iterable[bytes], until: datetime | None = None
) -> Iterator[OutRecord]:
    """`replay_lines` on a given engine, whose state the caller may read afterwards."""
    for line in lines:
        if not line.strip():
            continue
        yield from engine.submit_json(line.rstrip(b"\r\n"))
    if until is not None:
        engine.clock.advance_to(until)
        yield from engine.fire_timers(before=until, inclusive=True)
