"""The events the live benchmark sends: the council's stream, and the latency probes.

Throughput phases send the synthetic council's year (bench/council.py, less the lines it
spoils on purpose), encoded once, so that every phase reads exactly the same bytes.

The latency phase needs events that are sure to come out the other end, or there is
nothing to time. Per rules.md, a RED police VIST about a child whose social care status
is `child_in_need` is sent to `socialcare` at once (a notification carrying its
`event_id`), and when another agency (here health) works with the child and has not
been told, it raises UNSHARED_RISK (an alert whose `triggered_by` starts with it). So
the phase first sets up a few dozen such children (a social care record and a health
involvement each, untimed), then sends only RED VISTs about them, round robin. Every
child has its own social care id, date of birth and postcode, so the matcher links each
VIST to its child and never holds one for an identity review (tests/unit checks this
through replay, which the worker equals).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bench.council import Council
from broker.codec import AvroCodec
from broker.errors import InvalidInput
from broker.kafka.publish import partition_key
from broker.models.events import Event, parse_event
from broker.topics import topic_for_event_type

GIVEN = ("Isla", "Oscar", "Freya", "Arthur", "Poppy", "Theodore", "Matilda", "Reuben")
FAMILY = ("Green", "Hughes", "Pascoe", "Trelawny", "Whitfield", "Okafor", "Nowak", "Sinclair")


@dataclass(frozen=True, slots=True)
class Wire:
    """One record as the producer sends it: topic, key and Avro value."""

    event_id: str
    topic: str
    key: bytes
    value: bytes


def council_events(events: int, seed: int) -> list[Event]:
    found = []
    for line in Council(seed=seed, events=events).lines():
        try:
            found.append(parse_event(json.loads(line)))
        except (ValueError, InvalidInput):
            continue  # spoilt on purpose: ingest's business, measured elsewhere
    return found


def to_wire(events: list[Event], codec: AvroCodec) -> list[Wire]:
    wired = []
    for event in events:
        topic = topic_for_event_type(event.event_type)
        assert topic is not None
        value = codec.encode(event, topic=topic)
        wired.append(Wire(event.event_id, topic, partition_key(event).encode(), value))
    return wired


def _subject(child: int) -> dict[str, Any]:
    return {
        "given_name": GIVEN[child % len(GIVEN)],
        "family_name": FAMILY[(child // len(GIVEN)) % len(FAMILY)] + f"-{child // 64}",
        # distinct for 6,200 children (37 and 6,200 share no factor), all of them under 18
        "date_of_birth": (date(2009, 1, 1) + timedelta(days=37 * child % 6200)).isoformat(),
        "postcode": f"PL{1 + child % 9} {child % 10}A{chr(65 + child % 26)}",
        "socialcare_id": f"SC-B{child:05d}",
    }


def _envelope(
    event_id: str, event_type: str, agency: str, at: datetime, child: int
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "source": {"agency": agency, "system": f"{agency}-records"},
        "occurred_at": at.isoformat(),
        "recorded_at": at.isoformat(),
        "subject": _subject(child),
    }


def probe_children(children: int, at: datetime) -> list[Event]:
    """A social care record (child in need) and an open health involvement per child."""
    found = []
    for child in range(children):
        record = _envelope(f"bench-sc-{child}", "socialcare.record", "socialcare", at, child)
        record |= {
            "status": "child_in_need",
            "status_since": at.date().isoformat(),
            "allocated_worker": {"name": "Sam Reed", "team": "Plymouth Central CIN"},
            "previous_referrals": [],
        }
        involved = _envelope(f"bench-inv-{child}", "agency.involvement", "health", at, child)
        involved |= {"agency": "health", "status": "open", "team": "School nursing"}
        found += [parse_event(record), parse_event(involved)]
    return found


def probe_vist(number: int, children: int, at: datetime) -> Event:
    """The `number`th RED VIST, about child `number % children`, recorded `at`."""
    child = number % children
    vist = _envelope(f"bench-vist-{number}", "police.vist", "police", at, child)
    vist |= {
        "consent": {"status": "given"},
        "vist_id": f"V-B{number}",
        "rag": "RED",
        "concerns": ["neglect"],
        "narrative": "Officers attended the address.",
        "out_of_hours": False,
    }
    return parse_event(vist)
