"""The child stage's state, over plain mappings: faust tables in the worker, dicts in tests.

Three mappings, all keyed by child id (so all partitioned like broker.linked.v1):

- `pictures`: the picture as JSON bytes. The MASH page reads this table's changelog as
  its view of each child (docs/web.md); a deleted key is a child merged away.
- `inbox`: only while a merge is under way, whom the child waits for and what it holds.
- `timers`: only for children with a running deadline, when the earliest falls due and
  on which partition the child lives, so the ticker can find what is due without
  reading every picture, and only on the partitions this worker owns.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broker.models.internal import ChildMessage
from broker.picture import ChildPicture
from broker.pipeline.child import ChildSlot


@dataclass(frozen=True)
class Due:
    child_id: str
    due: datetime
    partition: int


class ChildStore:
    def __init__(
        self,
        pictures: MutableMapping[str, Any],
        inbox: MutableMapping[str, Any],
        timers: MutableMapping[str, Any],
    ) -> None:
        self.pictures = pictures
        self.inbox = inbox
        self.timers = timers

    def load(self, child_id: str) -> ChildSlot:
        raw = self.pictures.get(child_id)
        picture = ChildPicture.model_validate_json(raw) if raw else None
        waiting = self.inbox.get(child_id)
        if not waiting:
            return ChildSlot(picture)
        return ChildSlot(
            picture,
            tuple(waiting["awaiting"]),
            tuple(ChildMessage.model_validate_json(m) for m in waiting["pending"]),
        )

    def save(self, child_id: str, before: ChildSlot, after: ChildSlot, partition: int) -> None:
        """Write what changed (a faust table write is a changelog record)."""
        if after.picture != before.picture:
            if after.picture is None:
                self.pictures.pop(child_id, None)
            else:
                self.pictures[child_id] = after.picture.model_dump_json().encode("utf-8")
        if (after.awaiting, after.pending) != (before.awaiting, before.pending):
            if after.awaiting or after.pending:
                pending = [m.model_dump_json() for m in after.pending]
                self.inbox[child_id] = {"awaiting": list(after.awaiting), "pending": pending}
            else:
                self.inbox.pop(child_id, None)
        due = after.next_due()
        if due != before.next_due() or (due is not None and child_id not in self.timers):
            if due is None:
                self.timers.pop(child_id, None)
            else:
                self.timers[child_id] = {"due": due.isoformat(), "partition": partition}

    def due(self, before: datetime, inclusive: bool, partitions: Iterable[int]) -> list[Due]:
        """Children whose earliest deadline is due, on the given partitions, earliest first."""
        owned = set(partitions)
        found = []
        for child_id, value in list(self.timers.items()):
            when = datetime.fromisoformat(value["due"])
            if value["partition"] in owned and (when < before or (inclusive and when == before)):
                found.append(Due(child_id, when, value["partition"]))
        return sorted(found, key=lambda d: (d.due, d.child_id))
