"""`FaustState` reads lag and unread partitions from a faust app (a stand-in here).

A partition assigned and never fetched has no highwater: `lag` cannot say how far
behind it is and leaves it out, so `unfetched` counts it, or a worker holding a
partition it does not read would look healthy (docs/notes/faust-kafka.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broker.ops.faust_state import FaustState


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


@dataclass
class Consumer:
    highwaters: dict[TP, int | None]
    _committed_offset: dict[TP, int] = field(default_factory=dict)

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters[tp]


@dataclass
class App:
    consumer: Consumer
    assigned: set[TP]
    topics: tuple[str, ...] = ("police.vist.v1",)

    @property
    def agents(self) -> dict[str, Any]:
        channel = type("Channel", (), {"topics": self.topics})()
        return {"ingest": type("Agent", (), {"channel": channel})()}

    @property
    def assignor(self) -> Any:
        assigned = self.assigned
        return type("Assignor", (), {"assigned_actives": lambda _: assigned})()


def test_a_partition_never_fetched_is_unfetched_not_behind() -> None:
    read, unread = TP("police.vist.v1", 0), TP("police.vist.v1", 1)
    changelog = TP("mash-broker-child-pictures-changelog", 0)
    consumer = Consumer({read: 9, unread: None, changelog: None}, {read: 4})
    state = FaustState(App(consumer, {read, unread, changelog}))
    assert state.lag() == {("police.vist.v1", 0): 5}
    assert state.unfetched() == 1  # the changelog is not a source: not counted


def test_every_partition_fetched_leaves_nothing_unfetched() -> None:
    tp = TP("police.vist.v1", 0)
    state = FaustState(App(Consumer({tp: 3}), {tp}))
    assert state.unfetched() == 0
    assert state.lag() == {("police.vist.v1", 0): 3}  # never committed: counts from 0


def test_an_app_not_started_reads_as_nothing() -> None:
    state = FaustState(object())
    assert state.lag() == {}
    assert state.unfetched() == 0
