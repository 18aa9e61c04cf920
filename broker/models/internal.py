"""Messages between the broker's own stages: not part of the agencies' contract.

`broker.linked.v1` carries one `ChildMessage` per record, keyed by the child's id, so
that everything about one child reaches one worker in order: an event to process, a
tick of the clock (a deadline may be due), or one of the three steps of joining two
children a person decided are one (the survivor waits; the merged child hands its
picture over; the survivor takes it in). They are Avro on the wire like everything
else (schemas/internal/); the event inside keeps its own schema, so the envelope never
changes when an event's schema evolves.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime

from broker.models.common import Model
from broker.models.events import Event


class ChildMessageKind(StrEnum):
    event = "event"
    """An event linked to this child: process it."""
    tick = "tick"
    """The clock reached `at`: fire this child's deadlines due by then."""
    merge_await = "merge_await"
    """`other_child_id` is being merged into this child: hold further events until its
    picture arrives (merge_in), so that they are judged on the joined history."""
    merge_out = "merge_out"
    """This child was merged into `other_child_id`: hand the picture over and forget it."""
    merge_in = "merge_in"
    """The picture of `other_child_id` (or none), to be joined into this child's."""


class ChildMessage(Model):
    kind: ChildMessageKind
    child_id: str
    at: AwareDatetime
    """The broker's clock when the message was sent: rules judge the event at this
    instant (replay: the latest recorded_at seen; live: the wall clock at linking)."""
    inclusive: bool = False
    """For a tick: deadlines due exactly at `at` fire too (the end of a replay)."""
    link_note: str = ""
    """How the child was linked (for an event), shown in every alert it causes."""
    event: Event | None = None
    other_child_id: str | None = None
    picture: str | None = None
    """For merge_in: the merged child's picture as JSON (absent: it had none)."""
