"""The link stage's event time before each offset, kept for a batch read again
(broker.pipeline.event_time; the event clock of tests only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from broker.calendar.clock import BatchClock, EventClock, SystemClock
from broker.pipeline import event_time
from broker.pipeline.event_time import EVENT_TIME_KEY, KEPT_POINTS, Kept

T0 = datetime(2026, 5, 28, 12, 9, 55, tzinfo=UTC)
JUMP = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)


def test_the_time_before_any_offset_handled_is_found_wherever_a_batch_begins() -> None:
    kept = Kept(now=JUMP)
    kept.add(range(100, 104), [T0, T0, T0, JUMP])  # the event at 102 is dated 2030
    kept.add(range(104, 106), [JUMP, JUMP])
    assert kept.points == [(100, T0), (103, JUMP)]  # only where the time changed
    assert [kept.before(o) for o in (100, 101, 102, 103, 105)] == [T0, T0, T0, JUMP, JUMP]
    assert kept.before(106) == JUMP  # not handled yet: where the stage had come


def test_a_redelivery_keeps_the_times_of_the_first_time() -> None:
    kept = Kept(now=JUMP)
    kept.add([0, 1], [T0, JUMP])
    kept.add([1, 2], [T0, JUMP])  # 1 again, at another time: the first one stands
    assert kept.points == [(0, T0), (1, JUMP)]
    assert kept.to == 2


def test_only_the_last_changes_are_kept_and_an_older_offset_gets_the_oldest() -> None:
    kept = Kept()
    times = [T0 + timedelta(minutes=n) for n in range(KEPT_POINTS + 10)]
    kept.add(range(len(times)), times)
    assert len(kept.points) == KEPT_POINTS
    assert kept.before(3) == times[10]


def test_the_earlier_form_of_batch_starts_is_still_read() -> None:
    starts = {"7": T0.isoformat(), "12": JUMP.isoformat()}
    kept = Kept.read(json.dumps({"now": JUMP.isoformat(), "before": starts}))
    assert (kept.before(9), kept.before(12), kept.before(13)) == (T0, JUMP, JUMP)
    assert Kept.read(kept.write()) == kept


def test_a_batch_read_again_is_linked_from_its_time_and_the_worker_clock_stays() -> None:
    seen: dict[str, str] = {}
    worker = EventClock()
    worker.observe(T0)
    event_time.keep(seen, worker, [0, 1], [T0, T0])
    worker.observe(JUMP)
    event_time.keep(seen, worker, [2], [T0])

    batch = event_time.restore(seen, worker, first_offset=1)

    assert isinstance(batch, BatchClock)
    assert batch.now() == T0
    assert worker.now() == JUMP
    assert event_time.restore(seen, EventClock(), first_offset=3).now() == JUMP


def test_the_wall_clock_reads_and_writes_nothing() -> None:
    seen: dict[str, str] = {}
    clock = SystemClock()
    assert event_time.restore(seen, clock, first_offset=1) is clock
    event_time.keep(seen, clock, [1], [T0])
    assert EVENT_TIME_KEY not in seen
