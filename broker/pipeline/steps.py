"""The stages as steps: plain functions from input and state to records to publish.

The worker's agents and replay's engine call exactly these. A step never writes state
itself when the write must wait until its records are durable: it says what to write,
and the caller writes after sending (at-least-once without losing outputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from broker.models.events import Event
from broker.pipeline import dedupe
from broker.pipeline.ingest import Accepted, IngestResult, Refused
from broker.pipeline.link import provisional_link
from broker.pipeline.records import OutRecord
from broker.pipeline.rejection import rejection_records
from broker.topics import ACCEPTED, LINKED


@dataclass(frozen=True)
class Step:
    records: list[OutRecord] = field(default_factory=list)
    outcome: str = ""
    mark_seen: bool = False


def ingest_step(result: IngestResult, now: datetime) -> Step:
    """Accepted events go on, keyed by event_id; refusals become a rejection + feedback."""
    if isinstance(result, Accepted):
        event = result.event
        return Step([OutRecord(ACCEPTED.name, event.event_id, event)], "accepted")
    return Step(rejection_records(result, now), "rejected")


def link_step(event: Event, raw: bytes, seen: Mapping[str, str], now: datetime) -> Step:
    """De-duplicate by event_id, link to a child, re-key by the child's id."""
    sighting = dedupe.sighting(seen, event)
    if sighting is dedupe.Sighting.DUPLICATE:
        return Step(outcome="duplicate")
    if sighting is dedupe.Sighting.CONFLICT:
        refused = Refused(
            (dedupe.CONFLICT_PROBLEM,), raw, None, event.event_id, event.source.agency
        )
        return Step(rejection_records(refused, now), "conflict")
    link = provisional_link(event.subject)
    return Step([OutRecord(LINKED.name, link.child_id, event)], "linked", mark_seen=True)
