"""The faust child agent killed at every point of a merge: the merged child's history is
never lost, and the survivor never waits for ever.

A merge is three messages on broker.linked.v1: the survivor S is told to wait for M
(merge_await), M hands its picture over (merge_out, which sends merge_in to S), and
the events for S meanwhile are held until the picture comes. The faust agent keeps a
child's slot in two tables, the picture and the inbox (whom it waits for, what it
holds), whose writes are not atomic. CI found a survivor's outputs never complete
(test_link_loop_killed_merge.py[faust]); this found why: killed after the inbox
said "no longer waiting" and before the joined picture was written, the merge_in,
delivered again, was dropped as a duplicate, and M's history with it.

Here one partition is a list, the tables are dicts, and the agent's own batch function
runs over them, killed at each point: before a batch, after its records are sent and
before anything is stored ("sent"), or after the inbox and timers are stored and before
the pictures ("held"). The restart reads again from a committed offset that trails by
any amount. With the link loop killed too (`aborted`), its transaction's merge messages
were read uncommitted before the kill and come again after it (agents.link_loop), while
the restarted agent may send its own merge_in before or after them.

What must hold in every case: the outputs are those of the run with no kill (repeats
allowed: the faust agent is at-least-once), S's picture holds both children's history,
and no inbox still waits.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.child import handle_child_batch
from broker.calendar.clock import ManualClock
from broker.config.partnership import load_config
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.picture import ChildPicture
from broker.pipeline.child_store import ChildStore
from broker.pipeline.sink import MemorySink
from broker.topics import LINKED
from tests.unit.test_applied_once import police

T0 = datetime(2030, 7, 1, tzinfo=UTC)
CONFIG = load_config()
KILLS = ("before a batch", "sent", "held")


def _event(child_id: str, event_id: str, hours: int) -> ChildMessage:
    at = T0 + timedelta(hours=hours)
    return ChildMessage(
        kind=ChildMessageKind.event, child_id=child_id, at=at, event=police(event_id, at)
    )


def _merge() -> list[ChildMessage]:
    """What the link stage sends for a person's decision that M is S (and the decision)."""
    at = T0 + timedelta(hours=10)
    return [
        ChildMessage(kind=ChildMessageKind.merge_await, child_id="S", at=at, other_child_id="M"),
        ChildMessage(kind=ChildMessageKind.merge_out, child_id="M", at=at, other_child_id="S"),
        _event("S", "decided", 10),
    ]


@dataclass
class Partition:
    """broker.linked.v1's one partition, the outputs, the durable tables, and where the
    agent reads next."""

    log: list[ChildMessage] = field(default_factory=list)
    outputs: set[str] = field(default_factory=set)
    tables: tuple[dict[str, Any], dict[str, Any], dict[str, Any]] = ({}, {}, {})
    next: int = 0

    async def batch(self, size: int, kill: str | None = None) -> bool:
        """The agent's next batch (False: nothing to read); `kill`: where it dies."""
        if self.next >= len(self.log):
            return False
        items = self.log[self.next : self.next + size]
        pictures, inbox, timers = (dict(t) for t in self.tables)  # written on a copy
        sink = MemorySink()
        queue = iter(items)
        await handle_child_batch(
            [(b"", 0)] * len(items),
            lambda _: next(queue),
            ChildStore(pictures, inbox, timers),
            sink,
            config=CONFIG,
            clock=ManualClock(T0 + timedelta(days=400)),
            message_offsets=range(self.next, self.next + len(items)),
        )
        for record in sink.records:  # sent before anything is stored
            if record.topic == LINKED.name:
                self.log.append(record.value)
            else:
                self.outputs.add(f"{record.topic} {record.value.model_dump_json()}")
        if kill is None:
            self.tables = (pictures, inbox, timers)
            self.next += len(items)
        elif kill == "held":  # the inbox's and the timers' changelogs, not the pictures'
            self.tables = (self.tables[0], inbox, timers)
        return True

    async def drain(self, size: int) -> None:
        while await self.batch(size):
            pass

    def survivor(self) -> ChildPicture:
        return ChildPicture.model_validate_json(self.tables[0]["S"])

    def waiting(self) -> dict[str, Any]:
        return {k: v for k, v in self.tables[1].items() if v["awaiting"] or v["pending"]}


async def _killed(
    size: int,
    aborted: bool,
    done: int,
    kill: str,
    back: int,
    early: int,
    again: tuple[str, int] | None = None,
) -> Any:
    """The merge handled `done` batches in, killed `kill`; the restart reads from `back`
    messages before where it stopped, and handles `early` batches before the link loop
    sends its transaction again (when `aborted`). `again`: then killed once more, at the
    next batch, and restarted `back` messages before where it stopped."""
    partition = Partition(log=[_event("S", "s-1", 1), _event("M", "m-1", 2)])
    await partition.drain(size)
    committed = partition.next
    partition.log += _merge()
    for _ in range(done):
        await partition.batch(size)
    await _kill(partition, size, kill, back, committed)
    for _ in range(early):
        await partition.batch(size)
    if aborted:
        partition.log += _merge()
    if again is not None:
        await _kill(partition, size, again[0], again[1], committed)
    partition.log.append(_event("S", "after", 30))
    await partition.drain(size)
    return partition


async def _kill(partition: Partition, size: int, kill: str, back: int, committed: int) -> None:
    """Killed at the next batch (as `kill` says), and restarted from a committed offset
    `back` messages before where it stopped (never before `committed`)."""
    if kill != "before a batch":
        await partition.batch(size, kill)
    partition.next = max(committed, partition.next - back)


def _assert_as_calm(partition: Partition, calm: Partition, case: str) -> None:
    survivor = {e.event_id for e in partition.survivor().events}
    assert survivor == {"s-1", "m-1", "decided", "after"}, case
    assert "M" not in partition.tables[0], case
    assert partition.waiting() == {}, case
    assert partition.outputs == calm.outputs, case


async def _calm(size: int) -> Partition:
    """The merge with no kill."""
    calm = Partition(log=[_event("S", "s-1", 1), _event("M", "m-1", 2), *_merge()])
    calm.log.append(_event("S", "after", 30))
    await calm.drain(size)
    assert {e.event_id for e in calm.survivor().events} == {"s-1", "m-1", "decided", "after"}
    return calm


@pytest.mark.asyncio
@pytest.mark.parametrize("aborted", [False, True], ids=["merge", "merge-aborted-and-sent-again"])
@pytest.mark.parametrize("size", [1, 2, 3])
async def test_a_merge_killed_anywhere_keeps_both_histories(size: int, aborted: bool) -> None:
    calm = await _calm(size)
    for done, kill, back, early in itertools.product(range(5), KILLS, (0, 1, 3, 6), (0, 1, 3)):
        partition = await _killed(size, aborted, done, kill, back, early)
        _assert_as_calm(partition, calm, f"done={done} kill={kill} back={back} early={early}")


@pytest.mark.asyncio
@pytest.mark.parametrize("aborted", [False, True], ids=["merge", "merge-aborted-and-sent-again"])
async def test_a_merge_killed_again_while_it_recovers_keeps_both_histories(aborted: bool) -> None:
    """A second kill while the first one's batch is handled again: an inbox read as the
    one it replaced is itself written again, and may be left unvouched for again."""
    calm = await _calm(1)
    for done, kill, back, early, kill2, back2 in itertools.product(
        range(4), KILLS, (0, 6), (0, 2), ("sent", "held"), (0, 6)
    ):
        case = f"done={done} kill={kill} back={back} early={early} again={kill2},{back2}"
        partition = await _killed(1, aborted, done, kill, back, early, (kill2, back2))
        _assert_as_calm(partition, calm, case)
