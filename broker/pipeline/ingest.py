"""Stage 1: bytes in, an accepted event or a refusal with every reason out.

This is the one place that decides whether an input is accepted. It never raises on
bad input: whatever arrives (garbage bytes, JSON that is not an object, an unknown
event type, an invalid NHS number, an event on the wrong topic) comes back as a
`Refused` carrying each problem, so that a poison message can never stall a partition
or kill a worker. Only bugs raise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from broker.errors import InvalidInput, Problem
from broker.models.events import Event, parse_event, readable_envelope
from broker.topics import EVENT_TYPE_BY_TOPIC, INBOUND


@dataclass(frozen=True, slots=True)
class Accepted:
    event: Event
    raw: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    problems: tuple[Problem, ...]
    raw: bytes
    topic: str | None
    event_id: str | None = None
    source_agency: str | None = None


IngestResult = Accepted | Refused


class Decoder(Protocol):
    """The wire format, as ingest needs it (the codec module implements it)."""

    def decode_dict(self, data: bytes) -> dict[str, Any]:
        """The record as plain data, or `CodecError` naming what is wrong with the bytes."""
        ...


def ingest_json(raw: bytes, topic: str | None = None) -> IngestResult:
    """An event in events.md's JSON form (one line of a replay or publish file)."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line position {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        problem = Problem("payload", f"is not valid JSON{where}")
        return Refused((problem,), raw, topic)
    return validate(data, raw, topic)


def ingest_wire(raw: bytes, topic: str, decoder: Decoder) -> IngestResult:
    """An event as it arrives from Kafka, in the configured Avro framing."""
    try:
        data = decoder.decode_dict(raw)
    except InvalidInput as exc:
        return Refused(exc.problems, raw, topic)
    return validate(data, raw, topic)


def validate(data: Any, raw: bytes, topic: str | None) -> IngestResult:
    """Schema, type and domain checks; every problem is collected, not just the first."""
    event_id, agency = readable_envelope(data)
    if not isinstance(data, dict):
        problem = Problem("payload", "must be a JSON object (one event a line)")
        return Refused((problem,), raw, topic, event_id, agency)
    try:
        event = parse_event(data)
    except InvalidInput as exc:
        return Refused(exc.problems, raw, topic, event_id, agency)
    if topic is not None and EVENT_TYPE_BY_TOPIC.get(topic) != event.event_type:
        expected = INBOUND[event.event_type].name
        problem = Problem(
            "event_type",
            f"'{event.event_type}' events belong on topic {expected}, not {topic}",
        )
        return Refused((problem,), raw, topic, event_id, agency)
    return Accepted(event, raw)
