"""A link stage that lost its partition and writes late cannot take back what the new
owner's index learnt.

`bench.chaos --seed 2` (evidence of 3 December 2026): worker 1 was paused past its
session timeout in the middle of a link batch (its records were created, not yet
acknowledged). Worker 0 took the partition over, linked the same events and the next
one, a police notice that taught a child's index entry its police person id (identity
changelog offset 667). Let go on, worker 1 finished its batch: its sends were
acknowledged and it wrote the child's identity as *its* index had it, without the id
(offset 679), before it heard of the rebalance. The next worker to restore the table
from the changelog took the last record, the zombie's, and linked the child's next
police notice on names (weight 38.9) where replay linked it on the police person id:
three alerts lost and three changed.

Here the two workers are two link stages writing one changelog (their own tables record
what they send to it), the zombie held inside its send, and the worker that restores
afterwards is the worker's own faust table (memory and RocksDB stores) fed the
changelog's records in their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agents.link import handle_accepted_batch
from broker.models.events import Event
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import MemorySink, Outgoing
from broker.topics import LINKED
from tests.agents.test_batches import CLOCK, police
from tests.unit.test_newest_wins import STORES, identity_table, restore, stored

NHS = "9434765919"
A = police("pol-a")  # a new child
D = police("pol-d", nhs_number=NHS)  # the batch the zombie was in: teaches an NHS number
B = police("pol-b", police_person_id="PP-1")  # teaches the police person id
C = police("pol-c", police_person_id="PP-1")  # replay links it on that id


class Changelog(list[tuple[str, Any]]):
    """The identity table's changelog: (key, value) in the order Kafka appended them."""


class LocalTable(dict[str, Any]):
    """One worker's `identity` table: every write is also a changelog record."""

    def __init__(self, changelog: Changelog, restored: dict[str, Any] | None = None) -> None:
        super().__init__(restored or {})
        self.changelog = changelog

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.changelog.append((key, value))


class HeldSink(MemorySink):
    """The zombie's sends: acknowledged only once it is let go on."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.released = asyncio.Event()

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        self.entered.set()
        await self.released.wait()
        await super().send_all(records)


async def link(
    events: list[Event],
    first_offset: int,
    identity: IdentityStore,
    seen: dict[str, str],
    sink: MemorySink | None = None,
) -> MemorySink:
    sink = sink or MemorySink()
    by_raw = {str(n).encode(): e for n, e in enumerate(events)}
    await handle_accepted_batch(
        list(by_raw),
        by_raw.__getitem__,
        seen=seen,
        identity=identity,
        held={},
        sink=sink,
        clock=CLOCK,
        message_offsets=range(first_offset, first_offset + len(events)),
    )
    return sink


def note_of(sink: MemorySink) -> str:
    [record] = sink.on(LINKED.name)
    return str(record.value.link_note)


def restored_identity(tmp_path: Path, store: str, changelog: Changelog) -> dict[str, Any]:
    """The `identity` table of a worker that recovers the partition from its changelog."""
    table = identity_table(tmp_path, store)
    restore(table, changelog)
    return stored(table, [key for key, _ in changelog])


async def replay_note() -> str:
    identity, seen = IdentityStore({}), {}
    for offset, event in enumerate([A, D, B]):
        await link([event], offset, identity, seen)
    return note_of(await link([C], 3, identity, seen))


@pytest.mark.asyncio
@pytest.mark.parametrize("store", STORES)
async def test_a_zombie_s_late_identity_write_is_not_what_the_table_restores(
    tmp_path: Path, store: str
) -> None:
    changelog = Changelog()
    zombie_seen: dict[str, str] = {}
    zombie = IdentityStore(LocalTable(changelog))
    await link([A], 0, zombie, zombie_seen)

    held = HeldSink()
    in_flight = asyncio.ensure_future(link([D], 1, zombie, zombie_seen, held))
    await held.entered.wait()  # paused past its session timeout, records not acknowledged

    owner = IdentityStore(LocalTable(changelog, dict(changelog)))  # restored: the latest
    owner_seen = dict(zombie_seen)
    await link([D, B], 1, owner, owner_seen)
    assert changelog[-1][1]["police_person_id"] == ["PP1"]  # the owner's index learnt it

    held.released.set()  # let go on: its sends go through, then its table writes
    await in_flight
    assert changelog[-1][1]["police_person_id"] == []  # the zombie's write came last

    restored = restored_identity(tmp_path, store, changelog)
    after = note_of(await link([C], 3, IdentityStore(restored), owner_seen))

    expected = await replay_note()
    assert expected.startswith("Linked on police person id")
    assert after == expected
