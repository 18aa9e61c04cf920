"""Every stage over in-process state: what `mash-broker replay` runs.

The live worker runs the same step functions (broker.pipeline.steps, broker.rules),
spread over faust agents with their state in changelog-backed tables; this class strings
them together in one process so that a scenario file can be checked without Kafka. It
holds no rules of its own: it keeps the children's slots, moves the clock, fires timers
when the clock passes them (as the worker's ticks do), and hands each message for a
child to `broker.pipeline.child.child_step`, exactly as the worker's child agent does.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from broker.calendar.clock import ManualClock
from broker.config.partnership import PartnershipConfig, load_config
from broker.errors import InvalidInput
from broker.identity import IdentityIndex
from broker.models.internal import ChildMessage
from broker.picture import ChildPicture
from broker.pipeline import dedupe
from broker.pipeline.child import EMPTY, ChildSlot, child_step, tick
from broker.pipeline.ingest import Accepted, IngestResult, ingest_json
from broker.pipeline.jsonlines import read_json
from broker.pipeline.records import OutRecord
from broker.pipeline.steps import ingest_step, link_step
from broker.topics import LINKED


@dataclass
class EngineState:
    """All the state the stages keep; the worker keeps the same in faust tables."""

    seen: dict[str, str] = field(default_factory=dict)
    index: IdentityIndex = field(default_factory=IdentityIndex)
    held: dict[str, str] = field(default_factory=dict)
    """event_id -> event JSON, for events held unlinked until a person decides."""
    slots: dict[str, ChildSlot] = field(default_factory=dict)
    next_due: dict[str, datetime] = field(default_factory=dict)
    """child id -> when its earliest timer falls due (only children with timers)."""

    @property
    def pictures(self) -> dict[str, ChildPicture]:
        return {c: s.picture for c, s in self.slots.items() if s.picture is not None}


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
        self._due_heap = [(when, child) for child, when in self.state.next_due.items()]
        """(due, child id) of `state.next_due`, as a heap, so that finding what is due
        before each event does not read every child with a timer (entries left behind
        by a change are stale, and skipped)."""
        heapq.heapify(self._due_heap)

    def submit_json(self, raw: bytes) -> list[OutRecord]:
        """One JSON line: the broker's clock moves to its `recorded_at` first."""
        return self.submit_at_its_time(ingest_json(raw))

    def submit_at_its_time(self, result: IngestResult) -> list[OutRecord]:
        """An ingested input (a JSON line, or a record read from Kafka), with the clock
        moved to its `recorded_at` first."""
        self.advance_for(result)
        return self.submit(result)

    def advance_for(self, result: IngestResult) -> None:
        """The clock to the input's `recorded_at` (a refused one's, when readable)."""
        if isinstance(result, Accepted):
            self.clock.advance_to(result.event.recorded_at)
        elif (instant := _readable_recorded_at(result.raw)) is not None:
            self.clock.advance_to(instant)  # a refused event is refused at its own time

    def submit(self, result: IngestResult) -> list[OutRecord]:
        if not isinstance(result, Accepted):
            return ingest_step(result, self.clock.now()).records
        records = self.fire_timers(before=self.clock.now())
        return records + self.follow(self.link(result))

    def link(self, accepted: Accepted) -> list[OutRecord]:
        """The link stage on this engine's identity state: what it publishes (messages
        for children on broker.linked.v1, held events, identity reviews)."""
        step = link_step(
            accepted.event,
            accepted.raw,
            self.state.seen,
            self.clock.now(),
            index=self.state.index,
            held=self.state.held,
        )
        if step.mark_seen:
            dedupe.mark_seen(self.state.seen, accepted.event, step.seen_at or self.clock.now())
        return step.records

    def follow(self, linked: list[OutRecord]) -> list[OutRecord]:
        """The link stage's records, each message for a child delivered straight after."""
        records: list[OutRecord] = []
        for record in linked:
            records.append(record)
            if record.topic == LINKED.name and isinstance(record.value, ChildMessage):
                records += self.deliver(record.value)
        return records

    def deliver(self, message: ChildMessage) -> list[OutRecord]:
        """A message to its child, and what that child sends on to others (a merged
        child's picture to the survivor) straight after: the worker's child agent, with
        broker.linked.v1 as an in-process queue."""
        queue = deque([message])
        records: list[OutRecord] = []
        while queue:
            current = queue.popleft()
            result = child_step(self.state.slots.get(current.child_id, EMPTY), current, self.config)
            self._store(current.child_id, result.slot)
            for record in result.records:
                records.append(record)
                if record.topic == LINKED.name and isinstance(record.value, ChildMessage):
                    queue.append(record.value)
        return records

    def fire_timers(self, *, before: datetime, inclusive: bool = False) -> list[OutRecord]:
        """Fire every child's timers due before `before`, earliest child first (by due,
        then child id)."""
        records: list[OutRecord] = []
        heap, next_due = self._due_heap, self.state.next_due
        due: list[tuple[datetime, str]] = []
        while heap and (heap[0][0] < before or (inclusive and heap[0][0] == before)):
            entry = heapq.heappop(heap)
            if next_due.get(entry[1]) == entry[0] and (not due or due[-1] != entry):
                due.append(entry)
        for _, child_id in due:
            records += self.deliver(tick(child_id, before, inclusive=inclusive))
        for entry in due:  # still due (a child waiting for a merge holds its tick)
            if next_due.get(entry[1]) == entry[0]:
                heapq.heappush(heap, entry)
        return records

    def _store(self, child_id: str, slot: ChildSlot) -> None:
        if slot.empty:
            self.state.slots.pop(child_id, None)
        else:
            self.state.slots[child_id] = slot
        due = slot.next_due()
        if due is None:
            self.state.next_due.pop(child_id, None)
        elif self.state.next_due.get(child_id) != due:
            self.state.next_due[child_id] = due
            heapq.heappush(self._due_heap, (due, child_id))


def _readable_recorded_at(raw: bytes) -> datetime | None:
    """The `recorded_at` of a refused line, when it can be read as an aware instant."""
    try:
        data = read_json(raw)
        text = data.get("recorded_at") if isinstance(data, dict) else None
        instant = datetime.fromisoformat(text) if isinstance(text, str) else None
    except (ValueError, InvalidInput):
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
