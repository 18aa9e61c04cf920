"""Stage 1: bytes in, an accepted event or a refusal with every reason out.

This is the one place that decides whether an input is accepted. It never raises on
bad input: whatever arrives (garbage bytes, JSON that is not an object, an unknown
event type, an invalid NHS number, an event on the wrong topic) comes back as a
`Refused` carrying each problem, so that a poison message can never stall a partition
or kill a worker. Only bugs raise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

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

MAX_AHEAD: Final = timedelta(hours=24)
"""How far ahead of the broker's wall clock an event may say it was recorded.

An event's deadlines run from its `recorded_at`: a RED VIST whose sender's clock (or a
flipped bit) dates it 2030 would have its decision due in 2030, and no alert would ever
say it was missed. So an event dated more than this ahead of the broker's clock is
refused, and the sender told to check its clock. A day is generous on purpose: a system
writing local time as UTC is an hour out, and hiding such an event from the MASH would
do more harm than its hour; years are not. On the event clock (replay, tests) the
broker's time *is* the events' own, so there is nothing to compare with."""


class Decoder(Protocol):
    """The wire format, as ingest needs it (the codec module implements it)."""

    def decode_dict(self, data: bytes) -> dict[str, Any]:
        """The record as plain data, or `CodecError` naming what is wrong with the bytes."""
        ...


def ingest_json(
    raw: bytes, topic: str | None = None, *, wall_now: datetime | None = None
) -> IngestResult:
    """An event in events.md's JSON form (one line of a replay or publish file).
    `wall_now`: the broker's wall clock, when it has one (see MAX_AHEAD)."""
    try:
        data = read_json(raw)
    except InvalidInput as exc:
        return Refused((*exc.problems, *_size_problems(raw)), raw, topic)
    return _within_size(validate(data, raw, topic, wall_now=wall_now), topic)


def ingest_wire(
    raw: bytes, topic: str, decoder: Decoder, *, wall_now: datetime | None = None
) -> IngestResult:
    """An event as it arrives from Kafka, in the configured Avro framing."""
    try:
        data = decoder.decode_dict(raw)
    except InvalidInput as exc:
        return Refused((*exc.problems, *_size_problems(raw)), raw, topic)
    return _within_size(validate(data, raw, topic, wall_now=wall_now), topic)


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


def validate(
    data: Any, raw: bytes, topic: str | None, *, wall_now: datetime | None = None
) -> IngestResult:
    """Schema, type and domain checks; every problem is collected, not just the first.
    A refusal carries what could be read of the envelope (`readable_envelope`, read
    only then: an accepted event has its own)."""
    if not isinstance(data, dict):
        problem = Problem("payload", "must be a JSON object (one event a line)")
        return Refused((problem,), raw, topic, *readable_envelope(data))
    try:
        event = parse_event(data)
    except InvalidInput as exc:
        return Refused(exc.problems, raw, topic, *readable_envelope(data))
    if topic is not None and EVENT_TYPE_BY_TOPIC.get(topic) != event.event_type:
        expected = INBOUND[event.event_type].name
        problem = Problem(
            "event_type",
            f"'{event.event_type}' events belong on topic {expected}, not {topic}",
        )
        return Refused((problem,), raw, topic, *readable_envelope(data))
    if wall_now is not None and event.recorded_at - wall_now > MAX_AHEAD:
        ahead = _ahead(event.recorded_at - wall_now)
        return Refused((ahead,), raw, topic, *readable_envelope(data))
    return Accepted(event, raw)


def _ahead(by: timedelta) -> Problem:
    hours = by.total_seconds() / 3600
    span = f"{hours:.0f} hours" if hours < 72 else f"{hours / 24:.0f} days"
    return Problem(
        "recorded_at",
        f"is {span} after the broker's clock; an event may be recorded at most "
        f"{MAX_AHEAD.total_seconds() / 3600:.0f} hours ahead of it: check the sending "
        "system's clock and time zone, then send the event again",
    )
