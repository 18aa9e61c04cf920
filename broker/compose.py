"""The composition root: the one place that builds the worker from its parts.

Nothing connects at import time; `build_worker` wires settings, codec, sink, tables and
agents together, and `run_worker` starts it. Tests build the same app with other
settings (ports, memory store) or another clock.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import faust

from agents import ingest, link
from broker.app import create_app
from broker.clock import Clock, SystemClock
from broker.codec import codec_from_settings
from broker.kafka_admin import create_topics
from broker.logs import configure_logging
from broker.settings import Settings
from broker.sink import KafkaSink
from broker.tables import Tables, declare_tables
from broker.topics import all_topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    app: faust.App
    tables: Tables
    agents: dict[str, Any]


def build_worker(settings: Settings, clock: Clock | None = None) -> Worker:
    clock = clock or SystemClock()
    app = create_app(settings)
    codec = codec_from_settings(settings)
    sink = KafkaSink(app, codec)
    tables = declare_tables(app)
    agents = {
        "ingest": ingest.register(app, codec, sink, clock),
        "link": link.register(app, codec, tables.seen_events, sink, clock),
    }
    return Worker(app, tables, agents)


def run_worker(settings: Settings) -> int:
    configure_logging()
    asyncio.run(
        create_topics(
            settings.kafka_bootstrap,
            all_topics(),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
    )
    worker = build_worker(settings)
    log.info("worker starting", extra={"count": len(worker.agents)})
    faust.Worker(worker.app, loglevel="INFO", override_logging=False).execute_from_commandline()
    return 0
