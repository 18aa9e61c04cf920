"""The child stage's state over plain dicts: what is written, and what the ticker finds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.calendar.clock import ManualClock
from broker.config.partnership import load_config
from broker.picture.model import MessagePosition
from broker.pipeline.child import EMPTY, ChildSlot, child_step, tick
from broker.pipeline.child_store import ChildStore
from broker.pipeline.engine import Engine, replay_engine

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def a_picture_with_a_deadline() -> ChildSlot:
    """A RED notice: the MASH's decision is due in four working hours."""
    scenario = json.loads((SCENARIOS / "decision_one_minute_late_fires.json").read_text())
    engine = Engine(ManualClock())
    list(replay_engine(engine, [json.dumps(scenario["events"][0]).encode()]))
    [slot] = engine.state.slots.values()
    assert slot.picture is not None
    assert slot.picture.timers
    return slot


def store() -> ChildStore:
    return ChildStore({}, {}, {})


def test_a_slot_survives_the_trip_through_the_tables() -> None:
    slot = a_picture_with_a_deadline()
    s = store()
    s.save("child-1", EMPTY, slot, partition=2)
    assert s.load("child-1") == slot
    assert isinstance(s.pictures["child-1"], bytes)  # the MASH page reads these bytes
    assert s.timers["child-1"]["partition"] == 2


def test_a_merge_under_way_keeps_what_the_child_holds() -> None:
    s = store()
    held = tick("child-1", datetime(2026, 5, 1, tzinfo=UTC))
    waiting = ChildSlot(None, ("child-2",), (held,))
    s.save("child-1", EMPTY, waiting, partition=0)
    assert s.load("child-1") == waiting
    s.save("child-1", waiting, EMPTY, partition=0)
    assert "child-1" not in s.inbox
    assert "child-1" not in s.pictures


def test_the_ticker_finds_only_what_is_due_on_its_own_partitions() -> None:
    slot = a_picture_with_a_deadline()
    assert slot.picture is not None
    due = min(t.due for t in slot.picture.timers)
    s = store()
    s.save("mine", EMPTY, slot, partition=0)
    s.save("theirs", EMPTY, slot, partition=1)
    assert s.due(due, inclusive=False, partitions={0}) == []
    [found] = s.due(due, inclusive=True, partitions={0})
    assert (found.child_id, found.due) == ("mine", due)
    assert [d.child_id for d in s.due(due + timedelta(seconds=1), False, {0, 1})] == [
        "mine",
        "theirs",
    ]


def test_deadline_gauges_count_every_running_deadline_on_owned_partitions() -> None:
    slot = a_picture_with_a_deadline()
    assert slot.picture is not None
    due = min(t.due for t in slot.picture.timers)
    s = store()
    s.save("mine", EMPTY, slot, partition=0)
    s.save("theirs", EMPTY, slot, partition=1)
    running = len(slot.picture.timers)
    assert s.deadline_counts(due - timedelta(minutes=30), {0}) == (running, 0)
    assert s.deadline_counts(due - timedelta(hours=2), {0}) == (0, 0)
    assert s.deadline_counts(due + timedelta(minutes=1), {0, 1}) == (0, 2 * running)


def test_a_fired_deadline_leaves_the_timers_table() -> None:
    slot = a_picture_with_a_deadline()
    assert slot.picture is not None
    s = store()
    s.save("c", EMPTY, slot, partition=0)
    late = max(t.due for t in slot.picture.timers) + timedelta(minutes=1)
    result = child_step(slot, tick("c", late), load_config())
    assert result.records  # DECISION_OVERDUE
    s.save("c", slot, result.slot, partition=0)
    assert "c" not in s.timers


class ReadCountingTable(dict[str, object]):
    """A table that counts how often it is read through: each is a RocksDB scan live."""

    scans = 0

    def items(self):  # type: ignore[no-untyped-def, override]
        self.scans += 1
        return super().items()

    def values(self):  # type: ignore[no-untyped-def, override]
        self.scans += 1
        return super().values()


def test_the_ticker_and_the_gauges_read_the_table_once_then_look_in_memory() -> None:
    slot = a_picture_with_a_deadline()
    assert slot.picture is not None
    due = min(t.due for t in slot.picture.timers)
    timers = ReadCountingTable()
    s = ChildStore({}, {}, timers)
    s.save("mine", EMPTY, slot, partition=0)
    for _ in range(5):
        assert [d.child_id for d in s.due(due, inclusive=True, partitions={0})] == ["mine"]
        assert s.deadline_counts(due + timedelta(minutes=1), {0}) == (0, len(slot.picture.timers))
    assert timers.scans <= 1
    s.save("mine", slot, EMPTY, partition=0)  # the child merged away: no deadline left
    assert s.due(due, inclusive=True, partitions={0}) == []
    assert timers.scans <= 1


def test_after_a_rebalance_the_ticker_reads_what_the_table_recovered() -> None:
    slot = a_picture_with_a_deadline()
    assert slot.picture is not None
    due = min(t.due for t in slot.picture.timers)
    s = store()
    assert s.due(due, inclusive=True, partitions={0, 3}) == []
    other = store()  # another worker's write, recovered here from the changelog
    other.save("theirs-now-mine", EMPTY, slot, partition=3)
    s.timers.update(other.timers)
    assert s.due(due, inclusive=True, partitions={3}) == []  # not looked at again yet
    s.forget()
    [found] = s.due(due, inclusive=True, partitions={3})
    assert (found.child_id, found.partition) == ("theirs-now-mine", 3)


def test_a_picture_is_parsed_once_and_kept_in_step_with_the_table() -> None:
    slot = a_picture_with_a_deadline()
    s = store()
    s.save("child-1", EMPTY, slot, partition=2)
    assert s.load("child-1").picture is slot.picture  # kept as saved: not parsed again
    s.pictures["child-1"] = b"not JSON: the table is read only when the picture is not kept"
    assert s.load("child-1") == slot


def test_after_a_rebalance_the_table_is_read_again() -> None:
    slot, other = a_picture_with_a_deadline(), a_picture_with_a_deadline()
    s = store()
    s.save("child-1", EMPTY, slot, partition=2)
    assert other.picture is not None
    s.pictures["child-1"] = other.picture.model_dump_json().encode()  # another worker's
    s.forget()
    loaded = s.load("child-1").picture
    assert loaded == other.picture
    assert loaded is not slot.picture


def test_a_child_merged_away_is_not_kept() -> None:
    slot = a_picture_with_a_deadline()
    s = store()
    s.save("child-1", EMPTY, slot, partition=0)
    s.save("child-1", slot, EMPTY, partition=0)
    assert s.load("child-1").picture is None


def test_each_partitions_next_offset_is_kept_beside_the_deadlines_and_never_read_as_one() -> None:
    """The child stage keeps, per partition of broker.linked.v1, the offset it handles
    next (broker.pipeline.offsets) in child-timers: the ticker, the gauges and their
    reading of the table again after a rebalance skip those keys."""
    slot = a_picture_with_a_deadline()
    assert slot.picture is not None
    due = min(t.due for t in slot.picture.timers)
    s = store()
    assert s.next_offset(0) is None
    s.keep_offsets(0, [40, 41])
    s.keep_offsets(3, [7])
    s.save("mine", EMPTY, slot, partition=0)
    assert (s.next_offset(0), s.next_offset(3), s.next_offset(1)) == (42, 8, None)
    for _ in range(2):  # as first read, and read again after a rebalance
        s.forget()
        [found] = s.due(due, inclusive=True, partitions={0, 3})
        assert found.child_id == "mine"
        assert s.deadline_counts(due + timedelta(minutes=1), {0, 3}) == (
            0,
            len(slot.picture.timers),
        )
    s.keep_offsets(0, [12])  # delivered again after a crash: never goes back
    assert s.next_offset(0) == 42


def test_an_inbox_its_picture_does_not_vouch_for_is_read_as_it_was_before() -> None:
    """The inbox is written first, then the picture with the same position: killed
    between them, `load` gives the slot as it was, so the batch, delivered again, is
    handled on what it was handled on (tests/agents/test_merge_killed.py)."""
    slot = a_picture_with_a_deadline()
    held = tick("child-1", datetime(2026, 5, 1, tzinfo=UTC))
    waiting = ChildSlot(slot.picture, ("child-2",), (held,))
    s = store()
    s.save_held("child-1", EMPTY, waiting, 0, MessagePosition(partition=0, offset=5))
    s.save_picture("child-1", EMPTY, waiting, MessagePosition(partition=0, offset=5))
    assert _inbox(s) == (("child-2",), (held,))  # vouched for: the picture was written at 5

    s.save_held("child-1", waiting, slot, 0, MessagePosition(partition=0, offset=7))
    assert _inbox(s) == (("child-2",), (held,))  # killed here: as it was
    s.save_picture("child-1", waiting, slot, MessagePosition(partition=0, offset=7))
    assert _inbox(s) == ((), ())

    later = ChildStore(s.pictures, s.inbox, s.timers)  # the next batch for the child
    loaded = later.load("child-1")
    later.save("child-1", loaded, loaded, 0, MessagePosition(partition=0, offset=9))
    assert "child-1" not in s.inbox  # what it held then is kept no longer than needed


def _inbox(s: ChildStore) -> tuple[object, object]:
    """What the child waits for and holds, as a restarted worker loads it."""
    loaded = ChildStore(s.pictures, s.inbox, s.timers).load("child-1")
    return loaded.awaiting, loaded.pending
