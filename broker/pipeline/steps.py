"""The stages as steps: plain functions from input and state to records to publish.

The worker's agents and replay's engine call exactly these. A step never writes state
itself when the write must wait until its records are durable: it says what to write,
and the caller writes after sending (at-least-once without losing outputs). The
identity index is the exception: linking is a sequential, single-writer stage (see
docs/identity.md), and the index is rebuilt from its changelog after a crash.

What the link stage passes on is a `ChildMessage` on broker.linked.v1, keyed by child:
the event with how it was linked and the clock's time, and when a person merged two
children, the messages that join their pictures (broker.pipeline.child).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime

from broker.identity import IdentityIndex
from broker.models.built import built
from broker.models.events import Event, IdentityDecision, parse_event
from broker.models.ids import stable_id
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.pipeline import dedupe
from broker.pipeline.identify import identify, person_record
from broker.pipeline.ingest import Accepted, IngestResult, Refused
from broker.pipeline.records import OutRecord, records_for
from broker.pipeline.rejection import rejection_records
from broker.rules.identity import identity_review_alert
from broker.topics import ACCEPTED, LINKED


@dataclass(frozen=True, slots=True)
class Linked:
    """An event that goes on to its child, and how the child was known (for alerts)."""

    child_id: str
    event: Event
    note: str


@dataclass(frozen=True)
class Step:
    records: list[OutRecord] = field(default_factory=list)
    outcome: str = ""
    mark_seen: bool = False
    seen_at: datetime | None = None
    """When the event was processed (mark_seen: the instant its id is remembered from)."""
    linked: list[Linked] = field(default_factory=list)
    """One per event passed on to a child, in the order of `records`."""
    merged: list[tuple[str, str]] = field(default_factory=list)
    """(survivor, merged-away child) for each merge a person decided, in order."""


def ingest_step(result: IngestResult, now: datetime) -> Step:
    """Accepted events go on, keyed by event_id; refusals become a rejection + feedback."""
    if isinstance(result, Accepted):
        event = result.event
        return Step([OutRecord(ACCEPTED.name, event.event_id, event)], "accepted")
    return Step(rejection_records(result, now), "rejected")


def link_step(
    event: Event,
    raw: bytes,
    seen: Mapping[str, str],
    now: datetime,
    *,
    index: IdentityIndex,
    held: MutableMapping[str, str],
) -> Step:
    """De-duplicate by event_id, link to a child, re-key by the child's id.

    An event the matcher is unsure of is held unlinked (in `held`, by event_id) and
    IDENTITY_REVIEW is raised; a person's identity decision merges or keeps children
    apart and releases the held events it names.
    """
    sighting = dedupe.sighting(seen, event, now)
    if sighting is dedupe.Sighting.DUPLICATE:
        return Step(outcome="duplicate")
    if sighting is dedupe.Sighting.CONFLICT:
        refused = Refused(
            (dedupe.CONFLICT_PROBLEM,), raw, None, event.event_id, event.source.agency
        )
        return Step(rejection_records(refused, now), "conflict")
    if isinstance(event, IdentityDecision):
        return _identity_decision(event, index, held, now)
    identified = identify(index, event)
    if identified.child_id is None:
        held[event.event_id] = event.model_dump_json()
        holding_id = stable_id("unlinked", event.event_id)
        alert = identity_review_alert(
            event,
            child_id=holding_id,
            reason=identified.note,
            candidates=identified.decision.candidates,
            now=now,
        )
        return Step(records_for([alert]), "review", mark_seen=True, seen_at=now)
    return _linked([Linked(identified.child_id, event, identified.note)], "linked", now)


def _identity_decision(
    decision: IdentityDecision, index: IdentityIndex, held: MutableMapping[str, str], now: datetime
) -> Step:
    """Apply a person's decision; the released events go on to their child."""
    children = [index.resolve(c) for c in decision.child_ids if c in index]
    pending = [parse_event_json(held.pop(e)) for e in decision.event_ids if e in held]
    released: list[Linked] = []
    merged: list[tuple[str, str]] = []
    who = f"a person's identity decision ({decision.decided_by})"
    if decision.decision == "same_child":
        survivor = children[0] if children else None
        for other in children[1:]:
            if index.resolve(other) != index.resolve(children[0]):
                merged.append((index.resolve(children[0]), index.resolve(other)))
            survivor = index.merge(children[0], other)
        for event in pending:
            chosen = survivor or stable_id("child", event.event_id)
            survivor = index.add(chosen, person_record(event.subject))
            released.append(Linked(survivor, event, f"Linked by {who}"))
    else:
        new_ids = []
        for event in pending:
            child_id = index.add(stable_id("child", event.event_id), person_record(event.subject))
            new_ids.append(child_id)
            released.append(Linked(child_id, event, f"Kept as a different child by {who}"))
        everyone = list(dict.fromkeys(children + new_ids))
        for i, a in enumerate(everyone):
            for b in everyone[i + 1 :]:
                if a != b:
                    index.keep_apart(a, b)
    return _linked(released, "identity_decision", now, merged)


def _linked(
    linked: list[Linked], outcome: str, now: datetime, merged: list[tuple[str, str]] | None = None
) -> Step:
    """The records for broker.linked.v1: merges first (the survivor told to wait before
    the merged child hands over), then the events, each keyed by its child."""
    records: list[OutRecord] = []
    for survivor, other in merged or []:
        records.append(_message(ChildMessageKind.merge_await, survivor, now, other=other))
        records.append(_message(ChildMessageKind.merge_out, other, now, other=survivor))
    for item in linked:
        records.append(
            _message(ChildMessageKind.event, item.child_id, now, note=item.note, event=item.event)
        )
    merges = list(merged or [])
    return Step(records, outcome, mark_seen=True, seen_at=now, linked=linked, merged=merges)


def _message(
    kind: ChildMessageKind,
    child_id: str,
    at: datetime,
    *,
    other: str | None = None,
    note: str = "",
    event: Event | None = None,
) -> OutRecord:
    # Built from values already validated (the event, the clock's aware instant, our own
    # ids): validating them again was a twentieth of the link stage.
    value = built(
        ChildMessage,
        kind=kind,
        child_id=child_id,
        at=at,
        other_child_id=other,
        link_note=note,
        event=event,
    )
    return OutRecord(LINKED.name, child_id, value)


def parse_event_json(text: str) -> Event:
    return parse_event(json.loads(text))
