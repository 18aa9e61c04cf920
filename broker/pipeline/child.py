"""Stage 4: everything about one child, one message at a time.

`child_step` is what both the worker's `child` agent and replay's engine run for each
`ChildMessage` (broker.models.internal): an event goes through the rules
(`broker.rules.process`), a tick fires the deadlines due (`fire_due`), and the three
merge messages join two children's pictures after a person decided they are one.

Why merging takes three messages: the two pictures live under different keys, so in
the worker possibly on different partitions and workers. The link stage tells the
survivor to wait (merge_await) *before* it tells the merged child to hand over
(merge_out); the merged child sends its picture to the survivor (merge_in). Events for
the survivor that arrive meanwhile are held in its slot and processed, in order, once
the picture is in: they are judged on the joined history, as replay judges them.

Pure: the slot given is not changed; the caller stores the result only after the
records are sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from broker.config.partnership import PartnershipConfig
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.picture import ChildPicture, merge_pictures
from broker.pipeline.records import OutRecord, records_for
from broker.rules import fire_due, process
from broker.topics import LINKED


@dataclass(frozen=True)
class ChildSlot:
    """What the broker keeps about one child: the picture, and (only while a merge is
    under way) whom it waits for and what it holds until then."""

    picture: ChildPicture | None = None
    awaiting: tuple[str, ...] = ()
    pending: tuple[ChildMessage, ...] = ()

    @property
    def empty(self) -> bool:
        return self.picture is None and not self.awaiting and not self.pending

    def with_picture(self, picture: ChildPicture) -> ChildSlot:
        """This slot with another picture (`dataclasses.replace`, without its cost at
        every message)."""
        return ChildSlot(picture, self.awaiting, self.pending)

    def next_due(self) -> datetime | None:
        return self.picture.next_due() if self.picture is not None else None


EMPTY = ChildSlot()


@dataclass(frozen=True)
class ChildResult:
    slot: ChildSlot
    """The slot to store; an empty slot means: forget this child (it was merged away)."""
    records: list[OutRecord] = field(default_factory=list)


def child_step(slot: ChildSlot, message: ChildMessage, config: PartnershipConfig) -> ChildResult:
    """The slot after `message`, and the records to publish, in order."""
    handler = _HANDLERS[message.kind]
    return handler(slot, message, config)


def _held(slot: ChildSlot, message: ChildMessage) -> ChildResult:
    """A message for a child waiting for a merge's picture, held until it comes. Held
    once: a message delivered again after a kill (its inbox written, the picture that
    says it was handled not: broker.pipeline.child_store, `save_picture`) is held
    already, and would otherwise be handled twice once the picture comes."""
    if message in slot.pending:
        return ChildResult(slot)
    return ChildResult(replace(slot, pending=(*slot.pending, message)))


def _on_event(slot: ChildSlot, message: ChildMessage, config: PartnershipConfig) -> ChildResult:
    if slot.awaiting:
        return _held(slot, message)
    if message.event is None:  # a malformed internal message: nothing to process
        return ChildResult(slot)
    outcome = process(
        slot.picture,
        message.event,
        child_id=message.child_id,
        link_note=message.link_note,
        now=message.at,
        config=config,
    )
    return ChildResult(slot.with_picture(outcome.picture), records_for(outcome.outputs))


def _on_tick(slot: ChildSlot, message: ChildMessage, config: PartnershipConfig) -> ChildResult:
    if slot.awaiting:
        return _held(slot, message)
    if slot.picture is None:
        return ChildResult(slot)
    outcome = fire_due(slot.picture, before=message.at, inclusive=message.inclusive, config=config)
    return ChildResult(slot.with_picture(outcome.picture), records_for(outcome.outputs))


def _fired_before(
    slot: ChildSlot, at: datetime, config: PartnershipConfig
) -> tuple[ChildSlot, list[OutRecord]]:
    """The deadlines that fell due before a merge fire first, on the picture they
    belong to (replay fires every timer due before the decision's time)."""
    if slot.picture is None or slot.awaiting:
        return slot, []
    outcome = fire_due(slot.picture, before=at, config=config)
    return replace(slot, picture=outcome.picture), records_for(outcome.outputs)


def _on_merge_await(
    slot: ChildSlot, message: ChildMessage, config: PartnershipConfig
) -> ChildResult:
    other = message.other_child_id
    if other is None or other in slot.awaiting:
        return ChildResult(slot)
    slot, records = _fired_before(slot, message.at, config)
    return ChildResult(replace(slot, awaiting=(*slot.awaiting, other)), records)


def _on_merge_out(slot: ChildSlot, message: ChildMessage, config: PartnershipConfig) -> ChildResult:
    survivor = message.other_child_id
    if survivor is None:
        return ChildResult(slot)
    slot, records = _fired_before(slot, message.at, config)
    picture = slot.picture.model_dump_json() if slot.picture is not None else None
    hand_over = ChildMessage(
        kind=ChildMessageKind.merge_in,
        child_id=survivor,
        at=message.at,
        other_child_id=message.child_id,
        picture=picture,
    )
    records.append(OutRecord(LINKED.name, survivor, hand_over))
    for held in slot.pending:  # what this child held now belongs to the survivor
        records.append(
            OutRecord(LINKED.name, survivor, held.model_copy(update={"child_id": survivor}))
        )
    return ChildResult(EMPTY, records)


def _on_merge_in(slot: ChildSlot, message: ChildMessage, config: PartnershipConfig) -> ChildResult:
    other = message.other_child_id
    if other is None or other not in slot.awaiting:
        return ChildResult(slot)  # a duplicate: the picture was joined already
    picture = slot.picture
    if message.picture is not None:
        incoming = ChildPicture.model_validate_json(message.picture)
        if picture is None:
            picture = incoming.model_copy(update={"child_id": message.child_id})
        else:
            picture = merge_pictures(picture, incoming)
    slot = replace(slot, picture=picture, awaiting=tuple(a for a in slot.awaiting if a != other))
    if slot.awaiting:
        return ChildResult(slot)
    held, slot = slot.pending, replace(slot, pending=())
    records: list[OutRecord] = []
    for pending in held:
        result = child_step(slot, pending, config)
        slot, records = result.slot, records + result.records
    return ChildResult(slot, records)


_HANDLERS: dict[
    ChildMessageKind, Callable[[ChildSlot, ChildMessage, PartnershipConfig], ChildResult]
] = {
    ChildMessageKind.event: _on_event,
    ChildMessageKind.tick: _on_tick,
    ChildMessageKind.merge_await: _on_merge_await,
    ChildMessageKind.merge_out: _on_merge_out,
    ChildMessageKind.merge_in: _on_merge_in,
}


def tick(child_id: str, at: datetime, *, inclusive: bool = False) -> ChildMessage:
    """The message that fires a child's deadlines due before `at` (at or before it,
    `inclusive`)."""
    return ChildMessage(kind=ChildMessageKind.tick, child_id=child_id, at=at, inclusive=inclusive)
