"""The child stage's state, over plain mappings: faust tables in the worker, dicts in tests.

Three mappings, all keyed by child id (so all partitioned like broker.linked.v1):

- `pictures`: the picture as JSON bytes. The MASH page reads this table's changelog as
  its view of each child (docs/web.md); a deleted key is a child merged away.
- `inbox`: only while a merge is under way, whom the child waits for and what it holds.
- `timers`: only for children with a running deadline, when the earliest falls due and
  on which partition the child lives, so the ticker can find what is due without
  reading every picture, and only on the partitions this worker owns. And one reserved
  key per partition of broker.linked.v1 (`offsets.next_offset_key`): the offset the
  stage handles next there, kept after each durable batch and restored with the table
  by whichever worker takes the partition over (broker.pipeline.offsets: faust can
  commit a message it skipped). Whatever iterates the table skips those keys.

The ticker looks every few seconds, and the deadline gauges at every scrape; reading the
whole `timers` table each time (a RocksDB scan, a JSON value per child) grew with the
number of children. So the store keeps the table's dues in memory too (`_dues`), read
from the table once and then kept in step by `save`. Only `save` writes the table on
the partitions this worker owns; a rebalance (another worker's writes recovered from the
changelog, a standby made active) calls `forget`, and the next look reads the table
again.

Pictures too: parsing a picture's JSON at every message was a fifth of the child
agent's time in a profile of the live worker (`python -m bench.live --phases worker1
--profile F`: `load` 4.4 s of `handle_child_batch`'s 18.5 s). The store keeps the last
`PARSED_MAX` pictures it loaded or saved, as the objects; a step never changes the
picture it is given (broker/picture/clone.py), so the kept object stays what the table
holds until `save` replaces both. `forget` drops them with the dues.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from broker.models.internal import ChildMessage
from broker.picture import ChildPicture
from broker.picture.model import MessagePosition
from broker.pipeline import offsets
from broker.pipeline.child import ChildSlot

PARSED_MAX = 4096
"""Pictures kept parsed in memory: the most recently used children's (a few MiB each
at worst, for children with years of chronology)."""


@dataclass(frozen=True)
class Due:
    child_id: str
    due: datetime
    partition: int
    version: int = 0
    """Which save of the child's deadlines this is (0: as read from the table): a new
    deadline due at the same instant as one already ticked is another deadline."""


@dataclass(frozen=True)
class _Dues:
    """One child's running deadlines, as its `timers` entry holds them."""

    all: tuple[datetime, ...]
    partition: int
    version: int = 0


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
        self._known: dict[str, _Dues] | None = None
        self._parsed: OrderedDict[str, ChildPicture] = OrderedDict()
        self._saves = 0
        self._spent: set[str] = set()  # emptied inboxes their pictures vouch for

    def forget(self) -> None:
        """The tables may have changed under us (a rebalance): read them again when next
        asked."""
        self._known = None
        self._parsed.clear()
        self._spent.clear()

    def _picture(self, child_id: str) -> ChildPicture | None:
        picture = self._parsed.get(child_id)
        if picture is not None:
            self._parsed.move_to_end(child_id)
            return picture
        raw = self.pictures.get(child_id)
        if not raw:
            return None
        picture = ChildPicture.model_validate_json(raw)
        self._keep(child_id, picture)
        return picture

    def _keep(self, child_id: str, picture: ChildPicture) -> None:
        self._parsed[child_id] = picture
        self._parsed.move_to_end(child_id)
        if len(self._parsed) > PARSED_MAX:
            self._parsed.popitem(last=False)

    def _dues(self) -> dict[str, _Dues]:
        if self._known is None:
            self._known = {
                child_id: _Dues(
                    _entry_dues(value),
                    value["partition"],
                )
                for child_id, value in list(self.timers.items())
                if not offsets.is_reserved(child_id)
            }
        return self._known

    def next_offset(self, partition: int) -> int | None:
        """The offset of broker.linked.v1's `partition` the stage handles next (None:
        no batch of it kept yet); read in the context of one of its messages."""
        return offsets.expected(self.timers, offsets.next_offset_key(partition))

    def next_position(self, partition: int) -> offsets.Next | None:
        """`next_offset`, and whether a transaction's marker is owed before it (the gap
        check: agents.rewind)."""
        return offsets.expected_next(self.timers, offsets.next_offset_key(partition))

    def keep_offsets(
        self, partition: int, handled: Sequence[int], closing: Sequence[bool] = ()
    ) -> None:
        """After a durable batch, in the context of one of `partition`'s messages;
        `closing`: which of them close a transaction (broker.pipeline.offsets)."""
        offsets.keep(self.timers, handled, offsets.next_offset_key(partition), closing)

    def load(self, child_id: str) -> ChildSlot:
        picture = self._picture(child_id)
        waiting = self.inbox.get(child_id)
        if not waiting:
            return ChildSlot(picture)
        if _unvouched(waiting, picture):  # killed before the picture: the batch again
            waiting = waiting["before"]
        elif not waiting["awaiting"] and not waiting["pending"]:
            self._spent.add(child_id)  # no longer needed: deleted at the next save
        return ChildSlot(
            picture,
            tuple(waiting["awaiting"]),
            tuple(ChildMessage.model_validate_json(m) for m in waiting["pending"]),
        )

    def save(
        self,
        child_id: str,
        before: ChildSlot,
        after: ChildSlot,
        partition: int,
        last_message: MessagePosition | None = None,
    ) -> None:
        """Write what changed (a faust table write is a changelog record): `save_held`,
        then `save_picture`."""
        self.save_held(child_id, before, after, partition)
        self.save_picture(child_id, before, after, last_message)

    def save_held(
        self,
        child_id: str,
        before: ChildSlot,
        after: ChildSlot,
        partition: int,
        at: MessagePosition | None = None,
    ) -> bool:
        """Write the inbox and the timers entry, where they differ; whether the inbox was
        written (a merge under way: see `save_picture`).

        The inbox and the picture are two tables, and the faust agent's are two
        changelogs: no write of both is atomic. So an inbox written at `at` (the position
        of the child's last message in the batch) says so, and keeps the inbox it
        replaces; the picture is written after it with the same position
        (`save_picture`). A kill between the two leaves an inbox the picture does not
        vouch for: `load` reads the one it replaced, and the batch, delivered again, is
        handled on the state it was handled on the first time. Without it, a kill after a
        merge's picture came in (the inbox emptied, the joined picture not written) lost
        the merged child's history: the survivor no longer waited, and the picture,
        delivered again, was dropped as a duplicate (tests/agents/test_merge_killed.py).
        An emptied inbox is kept so (its entry empty, with the one it replaced), until a
        later batch finds its picture vouches for it: that batch deletes it (what the
        child held then is not kept longer than it is needed)."""
        held = _inbox_changed(before, after)
        spent = child_id in self._spent
        self._spent.discard(child_id)
        keep = after.awaiting or after.pending or (at is not None and after.picture is not None)
        if held and keep:
            entry: dict[str, Any] = _inbox_entry(after)
            if at is not None:
                entry["at"] = [at.partition, at.offset]
                entry["before"] = _inbox_entry(before)
            self.inbox[child_id] = entry
        elif held or spent:
            self.inbox.pop(child_id, None)
        self._save_timers(child_id, after, partition)
        return held

    def _save_timers(self, child_id: str, after: ChildSlot, partition: int) -> None:
        """The timers entry, where it differs from the picture's running deadlines.

        The timers entry is written whenever it differs from the picture's running
        deadlines, not only when the step changed them: it is derived from the picture,
        and the faust child agent's three tables are three changelogs, written apart. A
        worker killed between them left a picture that had an event (so the event,
        delivered again, was skipped) and no timers entry: the deadline never fired
        (tests/integration/test_batch_killed_half_sent.py in CI, a DECISION_OVERDUE
        missing). Saving a slot, even unchanged, mends the entry."""
        dues = _running(after)
        if tuple(dues) != self._indexed(child_id):
            known = self._known if self._known is not None else {}  # none read yet: the table
            if not dues:
                self.timers.pop(child_id, None)
                known.pop(child_id, None)
            else:
                self.timers[child_id] = {
                    "due": dues[0].isoformat(),
                    "all": [d.isoformat() for d in dues],
                    "partition": partition,
                }
                self._saves += 1
                known[child_id] = _Dues(tuple(dues), partition, self._saves)

    def save_picture(
        self,
        child_id: str,
        before: ChildSlot,
        after: ChildSlot,
        last_message: MessagePosition | None = None,
    ) -> None:
        """Write the picture if it changed, with `last_message`, the position of the last
        message handled for the child (agents.child, `handled_before`), when given.

        The picture says what was handled, so it is written after what it vouches for:
        a kill then leaves the picture out, and the message is handled again, rather
        than the timers entry or the inbox out, and the message skipped. One broker
        keeps a producer's records in the order they were sent; on several brokers the
        inbox's changelog and the pictures' may have different leaders, so the faust
        child agent waits for the inbox's writes to be acknowledged first
        (agents.child, `durable`). The timers entry needs no wait: `save_held` mends it
        from the picture. (The child loop writes all three in one transaction: no such
        gap there.) A batch that wrote the inbox writes the picture too, if only to say
        where it was (`save_held`)."""
        stamp = last_message is not None and _inbox_changed(before, after)
        if after.picture != before.picture or (stamp and after.picture is not None):
            if after.picture is None:
                self.pictures.pop(child_id, None)
                self._parsed.pop(child_id, None)
            else:
                picture = after.picture
                if last_message is not None:  # a copy: the step's picture may be shared
                    picture = picture.model_copy(update={"last_message": last_message})
                self.pictures[child_id] = picture.model_dump_json().encode("utf-8")
                self._keep(child_id, picture)

    def _indexed(self, child_id: str) -> tuple[datetime, ...]:
        """The child's deadlines as its timers entry holds them (none: no entry)."""
        if self._known is not None:
            known = self._known.get(child_id)
            return known.all if known is not None else ()
        value = self.timers.get(child_id)
        if value is None:
            return ()
        return _entry_dues(value)

    def deadline_counts(self, now: datetime, partitions: Iterable[int]) -> tuple[int, int]:
        """(due within the hour, overdue): every running deadline of the children on
        these partitions. Overdue means passed and not yet fired: the ticker's backlog,
        which should stay near 0 unless the worker is behind."""
        owned = set(partitions)
        soon = late = 0
        hour = now + timedelta(hours=1)
        for dues in self._dues().values():
            if dues.partition not in owned:
                continue
            for when in dues.all:
                late += when < now
                soon += now <= when < hour
        return soon, late

    def due(self, before: datetime, inclusive: bool, partitions: Iterable[int]) -> list[Due]:
        """Children whose earliest deadline is due, on the given partitions, earliest first."""
        owned = set(partitions)
        found = []
        for child_id, dues in self._dues().items():
            when = dues.all[0]
            if dues.partition in owned and (when < before or (inclusive and when == before)):
                found.append(Due(child_id, when, dues.partition, dues.version))
        return sorted(found, key=lambda d: (d.due, d.child_id))


def _inbox_changed(before: ChildSlot, after: ChildSlot) -> bool:
    return (after.awaiting, after.pending) != (before.awaiting, before.pending)


def _inbox_entry(slot: ChildSlot) -> dict[str, Any]:
    pending = [m.model_dump_json() for m in slot.pending]
    return {"awaiting": list(slot.awaiting), "pending": pending}


def _unvouched(entry: Mapping[str, Any], picture: ChildPicture | None) -> bool:
    """Whether an inbox entry was written by a batch whose picture was not (`save_held`).
    A child with no picture yet, or a picture from outside faust (no position), cannot
    say: its inbox is taken as written."""
    at = entry.get("at")
    seen = picture.last_message if picture is not None else None
    if at is None or seen is None:
        return False
    partition, offset = at
    return bool(seen.partition == partition and seen.offset < offset)


def _entry_dues(value: Mapping[str, Any]) -> tuple[datetime, ...]:
    """The deadlines a timers entry holds (entries from before `all` hold only `due`)."""
    return tuple(datetime.fromisoformat(t) for t in value.get("all", [value["due"]]))


def _running(slot: ChildSlot) -> list[datetime]:
    return sorted(t.due for t in slot.picture.timers) if slot.picture is not None else []
