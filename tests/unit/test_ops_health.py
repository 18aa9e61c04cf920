"""Liveness and readiness, without Kafka: the probe's cache and timeout, the verdicts.

tests/integration/test_operations.py checks the same against the real Kafka stopped and
started again.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from broker.kafka.admin import metadata_check
from broker.ops.health import (
    KafkaProbe,
    Readiness,
    liveness,
    readiness,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Check:
    """A metadata request that answers (or fails) as told, and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.delay = 0.0

    async def __call__(self) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("refused")


class Worker:
    def __init__(self, assigned: int | None = 3, recovered: bool = True) -> None:
        self.assigned = assigned
        self.recovered = recovered
        self.is_rebalancing = False
        self.has_crashed = False

    def assigned_partitions(self) -> int | None:
        return self.assigned

    def rebalancing(self) -> bool:
        return self.is_rebalancing

    def recovery_complete(self) -> bool:
        return self.recovered

    def crashed(self) -> bool:
        return self.has_crashed


@pytest.mark.asyncio
async def test_the_answer_is_cached_for_the_ttl_then_asked_again() -> None:
    check, clock = Check(), Clock()
    probe = KafkaProbe(check, ttl=5.0, clock=clock)
    assert await probe.reachable()
    check.fail = True
    clock.now = 4.9
    assert await probe.reachable()  # cached
    assert check.calls == 1
    clock.now = 5.0
    assert not await probe.reachable()
    assert check.calls == 2


@pytest.mark.asyncio
async def test_concurrent_probes_share_one_request() -> None:
    check = Check()
    check.delay = 0.05
    probe = KafkaProbe(check, ttl=5.0)
    answers = await asyncio.gather(*(probe.reachable() for _ in range(5)))
    assert answers == [True] * 5
    assert check.calls == 1


@pytest.mark.asyncio
async def test_a_slow_kafka_is_not_reachable() -> None:
    check = Check()
    check.delay = 5.0
    probe = KafkaProbe(check, timeout=0.05)
    assert not await asyncio.wait_for(probe.reachable(), 2.0)


@pytest.mark.asyncio
async def test_the_real_metadata_check_fails_fast_where_nobody_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = KafkaProbe(metadata_check(f"127.0.0.1:{port}", timeout=1.0), timeout=1.0)
    assert not await asyncio.wait_for(probe.reachable(), 5.0)


@pytest.mark.asyncio
async def test_ready_needs_kafka_partitions_and_recovered_tables() -> None:
    check, clock = Check(), Clock()
    probe = KafkaProbe(check, ttl=0.0, clock=clock)
    worker = Worker()
    assert (await readiness(probe, worker)).ready
    worker.recovered = False
    assert not (await readiness(probe, worker)).ready
    worker.recovered, worker.assigned = True, None  # never assigned yet
    assert not (await readiness(probe, worker)).partitions_assigned
    worker.assigned, worker.is_rebalancing = 3, True
    assert not (await readiness(probe, worker)).ready
    worker.is_rebalancing, check.fail = False, True
    check.fail = False
    assert not (await readiness(probe, worker, state_writable=False)).ready
    check.fail = True
    state = await readiness(probe, worker)
    assert state.to_json() == {
        "ready": False,
        "kafka_reachable": False,
        "partitions_assigned": True,
        "recovery_complete": True,
        "state_writable": True,
    }


def test_alive_unless_crashed() -> None:
    worker = Worker()
    assert liveness(worker, started_at=10.0, now=70.0) == {
        "live": True,
        "crashed": False,
        "stuck": False,
        "uptime_s": 60.0,
    }
    worker.has_crashed = True
    assert liveness(worker, 10.0, 70.0)["live"] is False


def test_readiness_is_the_conjunction() -> None:
    assert Readiness(True, True, True).ready
    assert not Readiness(True, False, True).ready
