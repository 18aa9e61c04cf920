"""Stage 1: bytes in, an accepted event or a refusal with every reason out.

This is the one place that decides whether an input is accepted. It never raises on
bad input: whatever arrives (garbage bytes, JSON that is not an object, an unknown
event type, an invalid NHS number, an event on the wrong topic) comes back as a
`Refused` carrying each problem, so that a poison message can never stall a partition
or kill a worker. Only bugs raise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from broker.errors import InvalidInput, Problem
from broker.models.events import Event, parse_event, readable_envelope
from broker.models.text import MAX_EVENT_BYTES
from broker.pipeline.jsonlines import read_json
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
        data = read_json(raw)
    except InvalidInput as exc:
        return Refused((*exc.problems, *_size_problems(raw)), raw, topic)
    return _within_size(validate(data, raw, topic), topic)


def ingest_wire(raw: bytes, topic: str, decoder: Decoder) -> IngestResult:
    """An event as it arrives from Kafka, in the configured Avro framing."""
    try:
        data = decoder.decode_dict(raw)
    except InvalidInput as exc:
        return Refused((*exc.problems, *_size_problems(raw)), raw, topic)
    return _within_size(validate(data, raw, topic), topic)


def _size_problems(raw: bytes) -> list[Problem]:
    if len(raw) <= MAX_EVENT_BYTES:
        return []
    message = f"is {len(raw)} bytes; an event may be at most {MAX_EVENT_BYTES} bytes"
    return [Problem("payload", message)]


def _within_size(result: IngestResult, topic: str | None) -> IngestResult:
    """An event over the size limit is refused whatever else is right or wrong with it:
    everything accepted travels on in records that Kafka must be able to carry."""
    too_big = _size_problems(result.raw)
    if not too_big:
        return result
    if isinstance(result, Refused):
        return replace(result, problems=(*result.problems, *too_big))
    event = result.event
    return Refused(tuple(too_big), result.raw, topic, event.event_id, event.source.agency.value)


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
