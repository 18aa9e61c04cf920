"""The link stage hands on only what follows its last durable batch without a gap
(broker.pipeline.offsets): faust can commit a message its stream skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from broker.pipeline import dedupe, offsets
from broker.pipeline.offsets import (
    NEXT_OFFSET_KEY,
    Next,
    Plan,
    handed_on,
    is_reserved,
    next_offset_key,
    plan,
    plan_partitions,
)


def test_a_batch_that_follows_on_is_handled_whole() -> None:
    assert plan([1757, 1758, 1759], 1757) == Plan(3, None)


def test_a_batch_past_the_expected_offset_is_a_gap_read_again_from_there() -> None:
    """bench.chaos seed 2: 1757 acknowledged unread, the next worker began at 1758."""
    assert plan([1758, 1759], 1757) == Plan(0, 1757)


def test_what_kafka_delivers_again_goes_through_for_de_duplication() -> None:
    assert plan([1750, 1751, 1752], 1757) == Plan(3, None)
    assert plan([1755, 1756, 1757, 1758], 1757) == Plan(4, None)


def test_a_gap_inside_a_batch_keeps_what_came_before_it() -> None:
    assert plan([1757, 1758, 1760], 1757) == Plan(2, 1759)
    assert plan([1750, 1751, 1760], 1757) == Plan(2, 1757)


def test_a_stage_with_nothing_kept_yet_still_sees_a_gap_within_a_batch() -> None:
    assert plan([5, 6, 7], None) == Plan(3, None)
    assert plan([5, 7], None) == Plan(1, 6)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=20), st.none() | st.integers(0, 50))
def test_what_is_handed_on_never_jumps_an_offset(batch: list[int], expected: int | None) -> None:
    result = plan(sorted(batch), expected)
    handed = sorted(batch)[: result.take]
    position = expected
    for offset in handed:
        assert position is None or offset <= position
        position = offset + 1 if position is None else max(position, offset + 1)
    assert (result.seek_to is None) == (result.take == len(batch))


def test_the_next_offset_is_kept_and_never_goes_back() -> None:
    seen: dict[str, str] = {}
    assert offsets.expected(seen) is None
    offsets.keep(seen, [10, 11, 12])
    assert offsets.expected(seen) == 13
    offsets.keep(seen, [5, 6])  # delivered again after a crash
    assert offsets.expected(seen) == 13
    offsets.keep(seen, [])
    assert offsets.expected(seen) == 13


def test_the_sweep_of_old_ids_leaves_the_reserved_key_alone() -> None:
    seen = {NEXT_OFFSET_KEY: "13"}
    dedupe.forget_expired(seen, datetime(2030, 1, 1, tzinfo=UTC))
    assert seen == {NEXT_OFFSET_KEY: "13"}


# -- the child stage: a batch holds several partitions' messages -----------------------


def test_each_partition_of_a_batch_is_planned_on_its_own() -> None:
    """Partition 1 has a gap at 21; partition 0 follows on: only partition 1 is cut,
    from its gap on, and sought back to 21."""
    batch = [(0, 10), (1, 20), (0, 11), (1, 22), (0, 12), (1, 23)]
    plans = plan_partitions(batch, {0: 10, 1: 20})
    assert plans == {0: Plan(3, None), 1: Plan(1, 21)}
    assert handed_on([p for p, _ in batch], {0: 3, 1: 1}) == [0, 1, 2, 4]


def test_a_partition_past_its_expected_offset_gives_none_the_others_go_on() -> None:
    batch = [(2, 40), (5, 7), (2, 41)]
    plans = plan_partitions(batch, {2: 38, 5: 7})
    assert plans == {2: Plan(0, 38), 5: Plan(1, None)}
    assert handed_on([p for p, _ in batch], {2: 0, 5: 1}) == [1]


def test_a_partition_with_nothing_kept_yet_follows_on_from_its_first_message() -> None:
    assert plan_partitions([(3, 100), (4, 9), (3, 101)], {4: 9}) == {
        3: Plan(2, None),
        4: Plan(1, None),
    }


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30)), max_size=30),
    st.dictionaries(st.integers(0, 3), st.integers(0, 30)),
)
def test_partitions_never_hold_each_other_back(
    drawn: list[tuple[int, int]], expected: dict[int, int]
) -> None:
    """Each partition's plan is the one its own messages would have alone, and what is
    handed on is, in the batch's order, each partition's first `take` messages."""
    batch = sorted(drawn, key=lambda m: m[1])  # each partition's offsets in order
    plans = plan_partitions(batch, expected)
    partitions = [p for p, _ in batch]
    handed = handed_on(partitions, {p: plans[p].take for p in plans})
    assert handed == sorted(handed)
    for partition, result in plans.items():
        own = [offset for p, offset in batch if p == partition]
        assert result == plan(own, expected.get(partition))
        assert [batch[i][1] for i in handed if partitions[i] == partition] == own[: result.take]


def test_each_partition_keeps_its_own_next_offset_under_its_own_key() -> None:
    """One key per partition: the changelog-first table keeps a worker's pending writes
    by key alone, so one key in every partition's store would mix them up."""
    timers: dict[str, str] = {}
    offsets.keep(timers, [7, 8], next_offset_key(0))
    offsets.keep(timers, [30], next_offset_key(1))
    assert offsets.expected(timers, next_offset_key(0)) == 9
    assert offsets.expected(timers, next_offset_key(1)) == 31
    assert offsets.expected(timers, next_offset_key(2)) is None
    keys = {next_offset_key(p) for p in range(12)} | {NEXT_OFFSET_KEY}
    assert len(keys) == 13
    assert all(is_reserved(k) for k in keys)
    assert not is_reserved("c-2f1a")
    assert not is_reserved(None)


def test_a_message_that_closes_a_transaction_is_followed_by_its_marker() -> None:
    """The link loop's transactions leave a marker after the last record each writes to
    a partition: 10 closes one (marker 11), 12 follows on; 13 after it is a gap."""
    assert plan([10, 12], 10, [True, False]) == Plan(2, None)
    assert plan([10, 13], 10, [True, False]) == Plan(1, 12)


def test_a_record_in_the_place_kept_for_a_marker_puts_the_marker_after_it() -> None:
    """10 closes a transaction; the ticker wrote 11 while it was open, so the marker is
    12 and 13 follows on (before, 13 was taken for a gap at 12: a look at Kafka)."""
    assert plan([10, 11, 13], 10, [True, False, False]) == Plan(3, None)
    assert plan([10, 11, 12, 14], 10, [True, False, False, False]) == Plan(4, None)
    assert plan([10, 11, 14], 10, [True, False, False]) == Plan(2, 13)  # 13: not a marker


def test_the_next_offset_kept_after_a_closing_message_is_past_its_marker() -> None:
    seen: dict[str, str] = {}
    offsets.keep(seen, [10, 11], closing=[False, True])
    assert offsets.expected(seen) == 13
    assert offsets.expected_next(seen) == Next(13, marker_owed=True)
    offsets.keep(seen, [13], closing=[False])  # the marker was 12
    assert offsets.expected_next(seen) == Next(14)


def test_a_record_kept_in_the_markers_place_across_batches_moves_the_next_offset_on() -> None:
    """CI's case: the child stage handled 539 (closing), then the tick 540 in a batch of
    its own; the marker is 541 and nothing follows. Expecting 541 read one behind the
    highwater (542) for ever."""
    timers: dict[str, str] = {}
    key = next_offset_key(0)
    offsets.keep(timers, [538, 539], key, closing=[False, True])
    assert offsets.expected(timers, key) == 541
    offsets.keep(timers, [540], key, closing=[False])
    assert offsets.expected(timers, key) == 542
    assert offsets.expected_next(timers, key) == Next(542, marker_owed=True)
    assert plan([542], offsets.expected_next(timers, key)) == Plan(1, None)
    assert all(is_reserved(k) for k in timers)


def test_a_record_delivered_again_before_the_next_offset_moves_nothing() -> None:
    """After a crash Kafka gives again what was handled; only the place kept for a marker
    not yet seen is a new record's."""
    seen: dict[str, str] = {}
    offsets.keep(seen, [10, 11, 12])
    offsets.keep(seen, [12])  # 12 again, no marker owed: 13 stays the next
    assert offsets.expected_next(seen) == Next(13)
    offsets.keep(seen, [13], closing=[True])
    offsets.keep(seen, [13], closing=[True])  # the closing record again
    assert offsets.expected_next(seen) == Next(15, marker_owed=True)
    offsets.keep(seen, [14])  # the ticker's record in the marker's place
    offsets.keep(seen, [13, 14], closing=[True, False])  # both again, after a crash
    assert offsets.expected_next(seen) == Next(16, marker_owed=True)


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30), st.data())
def test_the_next_offset_is_where_the_next_record_is_after_any_markers(
    log: list[tuple[bool, bool]], data: st.DataObject
) -> None:
    """A partition as the link loop and the ticker write it: each entry is a record
    (closing a transaction or not) and, after a closing one, maybe a plain record in
    between before the marker. Handled in batches of any size, the kept next offset is
    the offset of the next record to come, past every marker."""
    offsets_of: list[tuple[int, bool]] = []
    at = 0
    for closes, ticked in log:
        offsets_of.append((at, closes))
        at += 1
        if closes:
            if ticked:
                offsets_of.append((at, False))
                at += 1
            at += 1  # the marker
    table: dict[str, str] = {}
    start = 0
    while start < len(offsets_of):
        size = data.draw(st.integers(1, len(offsets_of) - start))
        batch = offsets_of[start : start + size]
        expected = offsets.expected_next(table)
        assert plan([o for o, _ in batch], expected, [c for _, c in batch]).seek_to is None
        offsets.keep(table, [o for o, _ in batch], closing=[c for _, c in batch])
        start += size
    assert offsets.expected(table) == at


def test_plans_by_partition_carry_each_message_s_flag() -> None:
    found = plan_partitions([(0, 4), (1, 7), (0, 6), (1, 9)], {0: 4, 1: 7}, [True] * 4)
    assert found == {0: Plan(2, None), 1: Plan(2, None)}


def test_the_last_record_a_transaction_sends_to_each_partition_closes_it() -> None:
    sent = [("linked", 0), ("linked", 1), ("linked", 0), ("rejected", 0), ("linked", 1)]
    assert offsets.closing(sent) == [False, False, True, True, True]


def test_the_closing_header_is_read_from_a_list_or_a_mapping() -> None:
    assert offsets.closes_transaction([("x", b"1"), (offsets.CLOSES_TRANSACTION, b"")])
    assert offsets.closes_transaction({offsets.CLOSES_TRANSACTION: b""})
    assert not offsets.closes_transaction([("x", b"1")])
    assert not offsets.closes_transaction(None)
