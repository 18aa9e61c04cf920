"""Stage 2: the same event_id twice is processed once.

`seen` maps event_id to a fingerprint of the event's content; in the worker it is a
changelog-backed faust table (so it survives a restart), in replay a dict. An event_id
re-used for *different* content is not a duplicate but a publisher's mistake: it is
refused with a reason, never silently dropped and never processed twice.

The worker marks an event seen only after its outputs are sent, so a crash in between
re-processes it (at-least-once); the outputs' ids are deterministic, so consumers can
drop what they have already had.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from enum import Enum

from broker.errors import Problem
from broker.models.events import Event


class Sighting(Enum):
    FIRST = "first"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


def fingerprint(event: Event) -> str:
    """The event's content, independent of its wire format (JSON or Avro)."""
    return hashlib.sha256(event.model_dump_json().encode("utf-8")).hexdigest()[:32]


def sighting(seen: Mapping[str, str], event: Event) -> Sighting:
    known = seen.get(event.event_id)
    if known is None:
        return Sighting.FIRST
    return Sighting.DUPLICATE if known == fingerprint(event) else Sighting.CONFLICT


def mark_seen(seen: MutableMapping[str, str], event: Event) -> None:
    seen[event.event_id] = fingerprint(event)


CONFLICT_PROBLEM = Problem(
    "event_id",
    "was already used for a different event; a correction or update needs a new event_id",
)
