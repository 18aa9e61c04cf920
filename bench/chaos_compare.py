"""What the workers published, against replay of exactly the events Kafka accepted.

After a chaos run every inbound topic is read back: those records are what Kafka
accepted, in whatever order and however often the senders' retries put them there.
The link stage reads them in the order of `broker.accepted.v1` (one partition), so
replay is fed the accepted events in that order, on its own clock, to the same `until`;
its records, and ingest's verdict on every inbound record, are what the workers should
have published.

Two kinds of record are compared differently:

- **refusals** (`broker.rejected.v1`, and `rejected` feedback) carry the broker's clock at
  the moment of refusal, and a link-stage refusal (an event id re-used for other
  content) quotes the bytes as that stage had them (Avro live, JSON in replay). They are
  compared by what they say: the event id, the topic and the reasons.
- **everything else** (alerts, notifications, audit, other feedback) is compared whole,
  field for field, as a consumer reads it off Kafka.

Counted: *lost* (expected, not published), *changed* (published, not expected: the
same id with other content, or a fact told under an id replay never gives, which is
how a fact told twice would show), *duplicated* (more copies of an expected record
than replay makes, in other bytes) and *re-sent* (more copies, byte for byte the same:
the same record sent again after a crash, at-least-once; a consumer drops an id it has
had; docs/notes/faust-kafka.md).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer

from broker.calendar.clock import ManualClock
from broker.codec import AvroCodec
from broker.models import to_json_dict
from broker.models.outputs import Feedback, Rejected
from broker.pipeline.engine import replay_lines
from broker.pipeline.ingest import Refused, ingest_wire
from broker.pipeline.rejection import rejection_records
from broker.topics import INBOUND_TOPICS, INTERNAL_TOPICS, all_topics

OUTPUTS = [t.name for t in all_topics() if not t.internal and t.name not in INBOUND_TOPICS]


@dataclass(frozen=True)
class Wire:
    topic: str
    key: bytes | None
    value: bytes


async def read_all(bootstrap: str, topics: list[str], idle_ms: int = 1500) -> list[Wire]:
    """Every committed record of `topics` from the beginning, in each partition's order
    (read_committed: with the link loop an aborted transaction's records stay on the
    topics, and no downstream reader sees them; with no transactions it is the same)."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[Wire] = []
    try:
        while batch := await consumer.getmany(timeout_ms=idle_ms, max_records=5000):
            for messages in batch.values():
                found += [Wire(m.topic, m.key, m.value or b"") for m in messages]
    finally:
        await consumer.stop()
    return found


def _line(topic: str, key: str | None, value: dict[str, Any]) -> str:
    return json.dumps({"topic": topic, "key": key, "value": value}, sort_keys=True)


def _refusal(topic: str, value: Any) -> str | None:
    """What a refusal says, without its clock or its copy of the bytes; None otherwise."""
    if isinstance(value, Rejected):
        reasons = [(r.field, r.message) for r in value.reasons]
        return json.dumps(["rejected", value.event_id, value.topic, reasons])
    if isinstance(value, Feedback) and value.kind == "rejected":
        problems = [(p.field, p.message) for p in value.problems]
        return json.dumps(["feedback", topic, value.event_id, problems])
    return None


@dataclass
class Expected:
    records: Counter[str]
    refusals: Counter[str]
    accepted_events: int
    inbound: int


def expected(
    inbound: list[Wire], accepted: list[Wire], codec: AvroCodec, until: datetime
) -> Expected:
    """Ingest's verdict on each inbound record, then replay of the accepted
    events in the link stage's order."""
    refusals: Counter[str] = Counter()
    for wire in inbound:  # ingest keeps no state: each copy Kafka holds is refused
        result = ingest_wire(wire.value, wire.topic, codec)
        if isinstance(result, Refused):
            for record in rejection_records(result, until):
                refusals[_refusal(record.topic, record.value) or ""] += 1
    lines = [json.dumps(to_json_dict(codec.decode(w.value))).encode() for w in accepted]
    records: Counter[str] = Counter()
    for record in replay_lines(lines, ManualClock(), until=until):
        if record.topic in INTERNAL_TOPICS:
            continue
        said = _refusal(record.topic, record.value)
        if said is not None:
            refusals[said] += 1
            continue
        value = codec.decode(codec.encode(record.value)).model_dump(mode="json")
        records[_line(record.topic, record.key, value)] += 1
    events = len({codec.decode(w.value).event_id for w in accepted})  # type: ignore[attr-defined]
    return Expected(records, refusals, events, len(inbound))


@dataclass
class Verdict:
    lost: int
    changed: int
    duplicated: int
    resent: int
    refusals_lost: int
    refusals_changed: int
    refusals_resent: int
    """A refusal sent again: its id is derived from the bytes, so always the same id."""
    examples: list[str]

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.changed
            or self.duplicated
            or self.refusals_lost
            or self.refusals_changed
        )


def compare(outputs: list[Wire], want: Expected, codec: AvroCodec) -> Verdict:
    records: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    copies: dict[str, set[bytes]] = {}
    for wire in outputs:
        value = codec.decode(wire.value)
        said = _refusal(wire.topic, value)
        if said is not None:
            refusals[said] += 1
            continue
        key = wire.key.decode() if wire.key is not None else None
        line = _line(wire.topic, key, value.model_dump(mode="json"))
        records[line] += 1
        copies.setdefault(line, set()).add(wire.value)
    extra = records - want.records
    lost = want.records - records
    # more copies of an expected record than replay has: re-sent when every copy is the
    # same bytes (the same record sent again), duplicated otherwise
    surplus = {line: n for line, n in extra.items() if line in want.records}
    resent = sum(n for line, n in surplus.items() if len(copies[line]) == 1)
    duplicated = sum(surplus.values()) - resent
    changed = sum(n for line, n in extra.items() if line not in want.records)
    refusal_extra = refusals - want.refusals
    refusal_lost = want.refusals - refusals
    examples = [f"lost: {line[:300]}" for line in list(lost)[:3]]
    examples += [f"changed: {line[:300]}" for line in extra if line not in want.records][:3]
    examples += [f"refusal lost: {line[:300]}" for line in list(refusal_lost)[:3]]
    examples += [
        f"refusal not expected: {line[:300]}" for line in refusal_extra if line not in want.refusals
    ][:3]
    return Verdict(
        lost=sum(lost.values()),
        changed=changed,
        duplicated=duplicated,
        resent=resent,
        refusals_lost=sum(refusal_lost.values()),
        refusals_changed=sum(n for line, n in refusal_extra.items() if line not in want.refusals),
        refusals_resent=sum(n for line, n in refusal_extra.items() if line in want.refusals),
        examples=examples,
    )


def settled_outputs(bootstrap: str, run: Any, timeout: float = 180.0) -> list[Wire]:
    """The output topics once three reads a second apart agree."""
    previous: list[list[Wire]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        previous.append(run(read_all(bootstrap, OUTPUTS)))
        if len(previous) >= 3 and len(previous[-1]) == len(previous[-2]) == len(previous[-3]):
            return previous[-1]
        time.sleep(1.0)
    raise RuntimeError("the outputs did not settle")
