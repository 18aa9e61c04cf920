"""Liveness and readiness: is the worker running, and is it doing its job?

Liveness answers "should this process be restarted?": if the event loop can answer the
request at all, and no service of the worker has crashed, it is alive. Readiness
answers "is the worker processing?": Kafka answers a metadata request, the worker has
partitions assigned, its tables are recovered, and its state directory can be written
(a worker that finds it cannot stops at once: broker/ops/state_dir.py). A worker that
is alive but not ready (Kafka away, a rebalance, a long recovery) must be left alone,
not restarted: it catches up by itself, and the partition waits for it (visible as lag).

The Kafka check is a real metadata request with a short timeout, cached for a few
seconds, so that a probe every second cannot flood a struggling cluster; concurrent
callers share one request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

MetadataCheck = Callable[[], Awaitable[None]]
"""Raises (anything) when Kafka does not answer a metadata request."""


class KafkaProbe:
    """Whether Kafka answered a metadata request within `timeout`, cached for `ttl` s."""

    def __init__(
        self,
        check: MetadataCheck,
        *,
        timeout: float = 2.0,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._timeout = timeout
        self._ttl = ttl
        self._clock = clock
        self._checked_at: float | None = None
        self._reachable = False
        self._lock = asyncio.Lock()

    async def reachable(self) -> bool:
        async with self._lock:  # one request at a time; the others read its answer
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._ttl:
                self._reachable = await self._probe()
                self._checked_at = self._clock()
            return self._reachable

    async def _probe(self) -> bool:
        try:
            await asyncio.wait_for(self._check(), self._timeout)
        except Exception as exc:  # any failure (refused, timeout, auth) is "not reachable"
            log.info("kafka metadata probe failed", extra={"error": type(exc).__name__})
            return False
        return True


class WorkerProgress(Protocol):
    """What readiness reads from the worker (broker.ops.faust_state adapts faust)."""

    def assigned_partitions(self) -> int | None:
        """Partitions actively assigned; None before the first assignment."""
        ...

    def rebalancing(self) -> bool: ...

    def recovery_complete(self) -> bool: ...

    def crashed(self) -> bool: ...


@dataclass(frozen=True)
class Readiness:
    kafka_reachable: bool
    partitions_assigned: bool
    recovery_complete: bool
    state_writable: bool = True
    """The state directory can be written (broker/ops/state_dir.py)."""

    @property
    def ready(self) -> bool:
        return (
            self.kafka_reachable
            and self.partitions_assigned
            and self.recovery_complete
            and self.state_writable
        )

    def to_json(self) -> dict[str, bool]:
        return {
            "ready": self.ready,
            "kafka_reachable": self.kafka_reachable,
            "partitions_assigned": self.partitions_assigned,
            "recovery_complete": self.recovery_complete,
            "state_writable": self.state_writable,
        }


async def readiness(
    probe: KafkaProbe, worker: WorkerProgress, *, state_writable: bool = True
) -> Readiness:
    assigned = worker.assigned_partitions()
    return Readiness(
        kafka_reachable=await probe.reachable(),
        partitions_assigned=bool(assigned) and not worker.rebalancing(),
        recovery_complete=worker.recovery_complete(),
        state_writable=state_writable,
    )


def liveness(
    worker: WorkerProgress, started_at: float, now: float, *, stuck: bool = False
) -> dict[str, Any]:
    """The loop answered (or this would not run); alive unless a service crashed or the
    worker is stuck (broker.ops.watchdog: ready, messages waiting, none handled)."""
    crashed = worker.crashed()
    return {
        "live": not (crashed or stuck),
        "crashed": crashed,
        "stuck": stuck,
        "uptime_s": round(now - started_at, 1),
    }
