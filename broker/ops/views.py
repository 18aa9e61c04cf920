"""The worker's operations endpoints, served by faust's own web server.

`/health/live`, `/health/ready`, `/ops` (HTML), `/ops.json` and `/debug/tasks`
(broker.ops.tasks: where a stuck worker's coroutines wait), beside `/metrics` (faust's
Prometheus sensor, broker.compose): one port per worker to scrape, probe and look at,
on the web server faust already runs, rather than a second HTTP server to configure,
secure and keep alive. The views only read: counts, states and labels, never a table or
an event (faust's own table views stay off, broker/app.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry

from broker.ops.figures import RateWindow, figures
from broker.ops.health import KafkaProbe, Readiness, WorkerProgress, liveness, readiness
from broker.ops.metrics import Metrics
from broker.ops.page import render
from broker.ops.tasks import task_stacks

#: Response headers of every view: never cached by a proxy, never framed.
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}


@dataclass
class Operations:
    """What the views need: the registry, the worker's state and a Kafka probe."""

    registry: CollectorRegistry
    metrics: Metrics
    worker: WorkerProgress
    probe: KafkaProbe
    refresh_seconds: int = 5
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    started_at: float = field(default_factory=time.monotonic)
    rates: RateWindow = field(default_factory=RateWindow)
    state_writable: Callable[[], bool] = lambda: True
    """Whether the state directory can be written (broker.ops.state_dir.StateWatch)."""
    stuck: Callable[[], bool] = lambda: False
    """Whether the worker was found stuck (broker.ops.watchdog)."""

    async def readiness(self) -> Readiness:
        state = await readiness(self.probe, self.worker, state_writable=self.state_writable())
        self.metrics.kafka_reachable.set(int(state.kafka_reachable))
        self.metrics.ready.set(int(state.ready))
        return state

    async def figures(self) -> dict[str, Any]:
        return figures(self.registry, await self.readiness(), self.rates, self.clock())

    def liveness(self) -> dict[str, Any]:
        return liveness(self.worker, self.started_at, time.monotonic(), stuck=self.stuck())


def register_views(app: faust.App, ops: Operations) -> None:
    """Add the views to the faust app (they serve once the worker's web server runs)."""

    @app.page("/health/live")
    async def health_live(self: View, request: Request) -> Response:
        body = ops.liveness()
        return self.json(body, status=200 if body["live"] else 503, headers=dict(HEADERS))

    @app.page("/health/ready")
    async def health_ready(self: View, request: Request) -> Response:
        state = await ops.readiness()
        return self.json(state.to_json(), status=200 if state.ready else 503, headers=dict(HEADERS))

    @app.page("/debug/tasks")
    async def debug_tasks(self: View, request: Request) -> Response:
        return self.json({"tasks": task_stacks()}, headers=dict(HEADERS))

    @app.page("/ops.json")
    async def ops_json(self: View, request: Request) -> Response:
        return self.json(await ops.figures(), headers=dict(HEADERS))

    @app.page("/ops")
    async def ops_page(self: View, request: Request) -> Response:
        page = render(await ops.figures(), ops.refresh_seconds)
        return self.html(page, headers=dict(HEADERS))

    async def refresh_readiness() -> None:
        """Keep `mash_worker_ready` and `mash_kafka_reachable` current between probes."""
        await ops.readiness()

    app.timer(interval=max(5.0, float(ops.refresh_seconds)))(refresh_readiness)
