"""The link stage hands on only what follows its last durable batch without a gap
(broker.pipeline.offsets): faust can commit a message its stream skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from broker.pipeline import dedupe, offsets
from broker.pipeline.offsets import NEXT_OFFSET_KEY, Plan, plan


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
