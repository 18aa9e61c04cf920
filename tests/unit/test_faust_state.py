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


def test_a_transaction_marker_after_the_last_message_is_not_lag() -> None:
    """The link loop's transactions end with a marker faust never hands a stream, so its
    committed offset stays one short of the highwater; the child stage's own next
    offset (kept past the marker) says the partition is done."""
    tp = TP("broker.linked.v1", 2)
    consumer = Consumer({tp: 11}, {tp: 10})
    app = App(consumer, {tp}, topics=("broker.linked.v1",))
    assert FaustState(app).lag() == {("broker.linked.v1", 2): 1}
    kept = {("broker.linked.v1", 2): 11}
    state = FaustState(app, handled=lambda topic, partition: kept.get((topic, partition)))
    assert state.lag() == {("broker.linked.v1", 2): 0}


def test_a_stage_kept_behind_its_commit_does_not_hide_lag() -> None:
    tp = TP("broker.linked.v1", 0)
    app = App(Consumer({tp: 20}, {tp: 15}), {tp}, topics=("broker.linked.v1",))
    state = FaustState(app, handled=lambda topic, partition: 12)
    assert state.lag() == {("broker.linked.v1", 0): 5}  # the larger of the two counts


def test_the_lag_of_a_stage_beside_faust_is_reported_with_faust_s() -> None:
    """The link loop reads broker.accepted.v1 with its own consumer, not faust's."""
    tp = TP("police.vist.v1", 0)

    def loop_lag() -> dict[tuple[str, int], int]:
        return {("broker.accepted.v1", 0): 7}

    def revoked() -> dict[tuple[str, int], int]:
        raise RuntimeError("between owners")

    app = App(Consumer({tp: 3}, {tp: 3}), {tp})
    assert FaustState(app, others=loop_lag).lag() == {
        ("police.vist.v1", 0): 0,
        ("broker.accepted.v1", 0): 7,
    }
    assert FaustState(app, others=revoked).lag() == {("police.vist.v1", 0): 0}


def test_partitions_held_by_the_loops_count_as_assigned() -> None:
    """With every stage a loop, faust's own group may give a worker nothing: the loops'
    partitions (their own groups) make it ready all the same."""
    state = FaustState(App(Consumer({}), set()), held=lambda: 7)
    assert state.assigned_partitions() is None  # faust has not assigned yet
    state.on_assigned()
    assert state.assigned_partitions() == 7
    nothing = FaustState(App(Consumer({}), set()))
    nothing.on_assigned()
    assert nothing.assigned_partitions() == 0


def test_a_loop_between_owners_leaves_faust_s_count() -> None:
    def between() -> int:
        raise RuntimeError("the consumer is being rebuilt")

    tp = TP("police.vist.v1", 0)
    state = FaustState(App(Consumer({tp: 1}), {tp}), held=between)
    state.on_assigned()
    assert state.assigned_partitions() == 1
