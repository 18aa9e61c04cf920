"""The link stage as a plain batch transform: accepted bytes in, wire records out.

What bench.live_linkloop runs inside each Kafka transaction (and times without Kafka):
the project's own functions, called as the worker's link agent calls them
(agents/link.py, `handle_accepted_batch`) and as replay's `Engine.link` does:

- each record is decoded by the codec (trusted: `decode_trusted`, as the agent does),
  the event clock observes its `recorded_at`, and
  `broker.pipeline.steps.link_step` links it on an in-memory `IdentityIndex` with a
  `seen` dict and a `held` mapping; an event the step marks seen is marked with
  `dedupe.mark_seen` straight away, so an id seen earlier in the batch is a duplicate;
- every record the step asks for is encoded as `KafkaSink` encodes it (the codec, with
  the record's topic; the key's UTF-8 bytes, or none);
- after the batch, the state the worker would persist: each step's children through
  `IdentityStore.persist` (the very code that writes the `identity` table), whose writes
  a `Recorded` mapping catches; the held events added and released; and the seen marks.
  These go to one compacted state topic, keyed `identity:<child id>`, `held:<event id>`,
  `seen:<event id>` (a released held event is a tombstone).

Nothing here touches Kafka; the loop decides how the records are sent and committed.
Bench code, not product code: a record that cannot be decoded or linked raises (the
worker's agent would put it on the rejected topic), the benchmark's events are valid.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from broker.calendar.clock import EventClock, observe
from broker.codec import AvroCodec
from broker.models.events import Event
from broker.pipeline import dedupe
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.link_state import Recorded
from broker.pipeline.records import OutRecord
from broker.pipeline.steps import Step, link_step

STATE_TOPIC = "bench.link-state.v1"
"""The compacted topic the loop keeps its state in (the faust tables' changelogs' part)."""

Record = tuple[str, bytes | None, bytes | None]
"""(topic, key, value) as handed to the producer; a None value is a tombstone."""


@dataclass
class LinkBatcher:
    """The link stage's state, and the transform of one batch (`link`)."""

    codec: AvroCodec
    clock: EventClock = field(default_factory=EventClock)
    seen: dict[str, str] = field(default_factory=dict)
    held: Recorded = field(default_factory=Recorded)
    identities: Recorded = field(default_factory=Recorded)
    store: IdentityStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = IdentityStore(self.identities)

    def step(self, raw: bytes) -> tuple[Event, Step]:
        """Decode one accepted record and link it, as agents/link.py does."""
        event = self.decode(raw)
        return event, self.link_event(event, raw)

    def decode(self, raw: bytes) -> Event:
        # broker.accepted.v1 holds events, validated by ingest: read as agents/link.py reads it
        return cast(Event, self.codec.decode_trusted(raw))

    def link_event(self, event: Event, raw: bytes) -> Step:
        """`link_step` on a decoded event, its id marked seen when the step says so."""
        observe(self.clock, event.recorded_at)
        now = self.clock.now()
        step = link_step(event, raw, self.seen, now, index=self.store.index, held=self.held)
        if step.mark_seen:
            dedupe.mark_seen(self.seen, event, step.seen_at or now)
        return step

    def link(self, raws: Sequence[bytes], prefix: str = "") -> list[Record]:
        """Every output record of the batch, in order, then its state records; topics
        named with `prefix` (tests' own topics), encoded under their real names."""
        steps = [self.step(raw) for raw in raws]
        records = [self.wire(r, prefix) for _, step in steps for r in step.records]
        state = prefix + STATE_TOPIC
        for event, step in steps:
            self.store.persist(event, step)
        for child_id, value in self.identities.drain():
            records.append((state, f"identity:{child_id}".encode(), _json(value)))
        for event_id, value in self.held.drain():
            records.append((state, f"held:{event_id}".encode(), _text(value)))
        for event, step in steps:
            if step.mark_seen:
                key = f"seen:{event.event_id}".encode()
                records.append((state, key, self.seen[event.event_id].encode()))
        return records

    def wire(self, record: OutRecord, prefix: str = "") -> Record:
        """As `KafkaSink` encodes a record (broker/kafka/sink.py)."""
        value = self.codec.encode(record.value, topic=record.topic)
        key = record.key.encode("utf-8") if record.key is not None else None
        return prefix + record.topic, key, value


def _json(value: Any) -> bytes | None:
    return None if value is None else json.dumps(value).encode()


def _text(value: str | None) -> bytes | None:
    return None if value is None else value.encode()
