"""The worker's operations views, in process: the app as `build_worker` wires it, served
by faust's own aiohttp application, with no Kafka listening at all.

Not started, the worker is alive but not ready (no Kafka, no partitions, no recovery);
every view still answers, and the metrics are in the worker's own registry.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from broker.compose import Worker, build_worker
from broker.settings import Settings


def nobody_listens() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    settings = Settings(
        kafka_bootstrap=f"127.0.0.1:{nobody_listens()}",
        store="memory",
        state_dir=tmp_path,
        worker_web_port=6066,
        health_kafka_timeout=1.0,
    )
    return build_worker(settings)


@pytest_asyncio.fixture
async def client(worker: Worker) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(worker.app.web.web_app)) as client:
        yield client


@pytest.mark.asyncio
async def test_alive_but_not_ready_without_kafka(client: TestClient) -> None:
    live = await client.get("/health/live")
    assert live.status == 200
    assert (await live.json())["live"] is True
    ready = await client.get("/health/ready")
    assert ready.status == 503
    assert await ready.json() == {
        "ready": False,
        "kafka_reachable": False,
        "partitions_assigned": False,
        "recovery_complete": False,
        "state_writable": True,
    }
    assert ready.headers["Cache-Control"] == "no-store"


@pytest.mark.asyncio
async def test_the_page_the_json_and_the_metrics_are_served(
    client: TestClient,
    worker: Worker,
) -> None:
    worker.metrics.event_in("police.vist.v1", "police")
    figures = await (await client.get("/ops.json")).json()
    assert figures["throughput"][0] | {"in_per_min": None} == {
        "topic": "police.vist.v1",
        "in": 1,
        "out": 0,
        "in_per_min": None,
        "out_per_min": None,
    }
    page = await client.get("/ops")
    assert page.content_type == "text/html"
    assert "police.vist.v1" in await page.text()
    metrics = await (await client.get("/metrics")).text()
    assert 'mash_events_in_total{agency="police",topic="police.vist.v1"} 1.0' in metrics
    assert "faust_messages_received_total" in metrics  # faust's sensor, same registry
    assert REGISTRY.get_sample_value("mash_events_in_total", {"agency": "police"}) is None
    json.dumps(figures)


def test_faust_table_views_stay_off(worker: Worker) -> None:
    paths = {route.resource.canonical for route in worker.app.web.web_app.router.routes()}
    assert {"/metrics", "/health/live", "/health/ready", "/ops", "/ops.json"} <= paths
    assert not any(p.startswith(("/table", "/graph", "/stats")) for p in paths)
