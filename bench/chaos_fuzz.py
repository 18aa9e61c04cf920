"""Hostile records for the real worker: a seeded mutation fuzzer over valid events.

Each record starts from one of the council's valid events and is spoilt in one way a
hostile or broken sender would try (issue 16): bytes truncated or padded, a schema
fingerprint that is not ours, JSON where Avro belongs, a narrative of a megabyte, control
characters and bidirectional overrides in names, markup and SQL in text (accepted: the
page renders it inert), an agency's event on another agency's topic or naming another
agency as its source, an event id re-used for other content, nesting 100,000 deep.
(`"yes"` for a boolean cannot travel in Avro, whose schema is strict: the JSON path is
tested in tests/unit/test_hostile_input.py.)

Every record is `Hostile(kind, topic, key, value)`; what the broker must do with it is
decided by running ingest on the very bytes (`expected_outcome`), so a count by outcome
and a check that each is accounted for need no second model of the rules.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, Final

from broker.codec import AvroCodec
from broker.errors import InvalidInput
from broker.kafka.publish import partition_key
from broker.models.events import parse_event
from broker.pipeline.ingest import Accepted, ingest_wire
from broker.topics import INBOUND_TOPICS, topic_for_event_type


@dataclass(frozen=True)
class Hostile:
    kind: str
    topic: str
    key: bytes
    value: bytes


Spoil = Callable[[random.Random, dict[str, Any], AvroCodec], tuple[str, bytes] | None]
"""(topic, bytes) for a spoilt copy of a valid event, or None when it does not apply."""

BIDI: Final = "\u202e"
PAYLOADS: Final = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE children; --",
    "{{7*7}} ${7*7} %s %n",
)


def _encoded(codec: AvroCodec, data: dict[str, Any], topic: str | None = None) -> tuple[str, bytes]:
    own = topic_for_event_type(str(data["event_type"]))
    assert own is not None
    where = topic or own
    try:
        return where, codec.encode_dict(str(data["event_type"]), data, topic=where)
    except InvalidInput:  # the schema cannot carry it: send the JSON, as a broken sender
        return where, json.dumps(data).encode()


def _truncated(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    topic, value = _encoded(codec, data)
    return topic, value[: rng.randrange(0, max(1, len(value) - 1))]


def _padded(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    topic, value = _encoded(codec, data)
    return topic, value + rng.randbytes(rng.randrange(1, 64))


def _flipped(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    topic, value = _encoded(codec, data)
    spoilt = bytearray(value)
    for _ in range(rng.randrange(1, 6)):
        spoilt[rng.randrange(10, len(spoilt))] ^= 1 << rng.randrange(8)
    return topic, bytes(spoilt)


def _foreign_fingerprint(
    rng: random.Random, data: dict[str, Any], codec: AvroCodec
) -> tuple[str, bytes]:
    topic, value = _encoded(codec, data)
    return topic, value[:2] + rng.randbytes(8) + value[10:]


def _json_not_avro(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    return _encoded(codec, data)[0], json.dumps(data).encode()


def _deep(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    return _encoded(codec, data)[0], b"[" * 100_000 + b"]" * 100_000


def _field(name: str, make: Callable[[random.Random], Any]) -> Spoil:
    def spoil(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
        changed = deepcopy(data)
        target = changed["subject"] if name.startswith("subject.") else changed
        target[name.removeprefix("subject.")] = make(rng)
        return _encoded(codec, changed)

    return spoil


def _only_with(name: str, make: Callable[[random.Random], Any]) -> Spoil:
    """`_field`, on events that have the field (a narrative, out_of_hours)."""

    def spoil(
        rng: random.Random, data: dict[str, Any], codec: AvroCodec
    ) -> tuple[str, bytes] | None:
        return _field(name, make)(rng, data, codec) if name in data else None

    return spoil


def _other_topic(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    own = topic_for_event_type(str(data["event_type"]))
    return _encoded(codec, data, rng.choice([t for t in INBOUND_TOPICS if t != own]))


def _impersonation(
    rng: random.Random, data: dict[str, Any], codec: AvroCodec
) -> tuple[str, bytes] | None:
    if data["event_type"] == "agency.involvement":
        return None  # any agency sends these
    changed = deepcopy(data)
    own = changed["source"]["agency"]
    changed["source"]["agency"] = rng.choice([a for a in ("police", "school", "yot") if a != own])
    return _encoded(codec, changed)


def _reused_id(rng: random.Random, data: dict[str, Any], codec: AvroCodec) -> tuple[str, bytes]:
    changed = deepcopy(data)
    changed["source"]["system"] = f"{changed['source']['system']}-changed"
    return _encoded(codec, changed)


SPOILS: Final[dict[str, Spoil]] = {
    "truncated_avro": _truncated,
    "trailing_bytes": _padded,
    "flipped_bits": _flipped,
    "foreign_fingerprint": _foreign_fingerprint,
    "json_not_avro": _json_not_avro,
    "nested_100000_deep": _deep,
    "megabyte_narrative": _only_with("narrative", lambda rng: "x" * 1_000_000),
    "control_characters_in_name": _field("subject.given_name", lambda rng: "Ann\x00\x1b[2J"),
    "bidi_override_in_name": _field("subject.family_name", lambda rng: f"Smith{BIDI}htimS"),
    "markup_in_name": _field("subject.family_name", lambda rng: rng.choice(PAYLOADS)),
    "markup_in_narrative": _only_with("narrative", lambda rng: rng.choice(PAYLOADS)),
    "huge_event_id": _field("event_id", lambda rng: "e" * 10_000),
    "wrong_topic": _other_topic,
    "impersonation": _impersonation,
    "reused_id_other_content": _reused_id,
}


def hostile_records(
    rng: random.Random, valid: list[dict[str, Any]], count: int, codec: AvroCodec
) -> list[Hostile]:
    """`count` hostile records, each a spoilt copy of one of `valid`'s events."""
    found: list[Hostile] = []
    kinds = sorted(SPOILS)
    while len(found) < count:
        kind = kinds[len(found) % len(kinds)] if len(found) < len(kinds) else rng.choice(kinds)
        data = rng.choice(valid)
        spoilt = SPOILS[kind](rng, data, codec)
        if spoilt is None:
            continue
        topic, value = spoilt
        found.append(Hostile(kind, topic, partition_key(parse_event(data)).encode(), value))
    return found


def expected_outcome(record: Hostile, codec: AvroCodec) -> str:
    """What ingest does with these bytes on this topic: 'accepted' or 'rejected'."""
    result = ingest_wire(record.value, record.topic, codec)
    return "accepted" if isinstance(result, Accepted) else "rejected"
