"""A ready worker with messages waiting that handles none for `patience` seconds is stuck
(broker.ops.watchdog): once, with where it waits, and its liveness then fails."""

from __future__ import annotations

import json
import logging

import pytest

from broker.ops.health import liveness
from broker.ops.logs import JsonFormatter
from broker.ops.tasks import thread_stacks
from broker.ops.watchdog import ProgressWatch, Stuck, watch_progress


def test_no_progress_with_messages_waiting_for_the_patience_is_stuck() -> None:
    watch = ProgressWatch(patience=60)
    assert watch.look(handled=10, waiting=500, ready=True, now=0) is None
    assert watch.look(handled=10, waiting=500, ready=True, now=59) is None
    assert watch.look(handled=10, waiting=480, ready=True, now=60) == Stuck(60, 480)


def test_it_is_said_once_and_kept() -> None:
    watch = ProgressWatch(patience=10)
    watch.look(0, 5, True, 0)
    assert watch.look(0, 5, True, 10) is not None
    assert watch.look(0, 5, True, 20) is None  # said already
    assert watch.look(1, 0, True, 30) is None
    assert watch.stuck == Stuck(10, 5)  # a stuck worker is restarted, not trusted again


def test_any_message_handled_starts_the_wait_again() -> None:
    watch = ProgressWatch(patience=10)
    watch.look(0, 5, True, 0)
    assert watch.look(1, 5, True, 9) is None
    assert watch.look(1, 5, True, 18) is None
    assert watch.look(1, 5, True, 19) == Stuck(10, 5)


def test_an_idle_worker_is_not_stuck() -> None:
    watch = ProgressWatch(patience=10)
    for now in range(0, 100, 5):
        assert watch.look(7, 0, True, now) is None


def test_a_rebalance_or_a_recovery_is_not_a_stall() -> None:
    watch = ProgressWatch(patience=10)
    watch.look(0, 5, True, 0)
    assert watch.look(0, 5, False, 9) is None  # not ready: recovering
    assert watch.look(0, 5, True, 15) is None  # the wait starts again once ready
    assert watch.look(0, 5, True, 19) == Stuck(10, 5)


def test_a_stuck_worker_is_not_live() -> None:
    class Running:
        def crashed(self) -> bool:
            return False

    assert liveness(Running(), 0.0, 5.0)["live"] is True  # type: ignore[arg-type]
    found = liveness(Running(), 0.0, 5.0, stuck=True)  # type: ignore[arg-type]
    assert found["live"] is False
    assert found["stuck"] is True


@pytest.mark.asyncio
async def test_the_stall_is_logged_once_with_where_each_task_and_thread_waits() -> None:
    said: list[Stuck] = []
    now = [0.0]
    look = watch_progress(
        ProgressWatch(patience=30),
        handled=lambda: 3,
        waiting=lambda: 12,
        ready=ready,
        clock=lambda: now[0],
        on_stuck=said.append,
    )
    handler = Collect()
    logging.getLogger("broker.ops.watchdog").addHandler(handler)
    try:
        for now[0] in (0.0, 15.0, 30.0, 45.0):
            await look()
    finally:
        logging.getLogger("broker.ops.watchdog").removeHandler(handler)
    assert said == [Stuck(30, 12)]
    (entry,) = [json.loads(JsonFormatter().format(r)) for r in handler.records]
    assert entry["level"] == "error"
    assert entry["seconds"] == 30
    assert entry["count"] == 12
    assert any("test_watchdog.py" in f for t in entry["tasks"] for f in t["frames"])
    assert any(t["thread"] == "MainThread" for t in entry["threads"])
    mine = next(t for t in entry["threads"] if t["thread"] == "MainThread")
    assert any("test_watchdog.py" in frame for frame in mine["frames"])


@pytest.mark.asyncio
async def test_a_failing_read_of_the_worker_is_no_verdict() -> None:
    def broken() -> int:
        raise RuntimeError("assignor rebuilt")

    look = watch_progress(
        ProgressWatch(patience=0),
        handled=lambda: 0,
        waiting=broken,
        ready=ready,
        clock=lambda: 0.0,
    )
    await look()  # does not raise: a faust timer that raises stops the worker


def test_thread_stacks_are_code_locations_only() -> None:
    for thread in thread_stacks():
        for frame in thread["frames"]:
            file_line, _, function = frame.partition(" ")
            assert file_line.count(":") == 1
            assert function.isidentifier() or function.startswith("<")


async def ready() -> bool:
    return True


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.asyncio
async def test_a_worker_waiting_for_kafka_is_not_stuck() -> None:
    """Readiness includes Kafka being reachable: a worker whose Kafka is away has lag and
    handles nothing, and must be left to reconnect (docs/operations.md, Health)."""
    watch = ProgressWatch(patience=10)
    said: list[Stuck] = []
    now = [0.0]

    async def kafka_away() -> bool:
        return False

    look = watch_progress(
        watch,
        handled=lambda: 0,
        waiting=lambda: 40,
        ready=kafka_away,
        clock=lambda: now[0],
        on_stuck=said.append,
    )
    for now[0] in (0.0, 30.0, 600.0):
        await look()
    assert said == []
    assert watch.stuck is None
