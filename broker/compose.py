"""The composition root: the one place that builds the worker from its parts.

Nothing connects at import time; `build_worker` wires settings, codec, sink, tables,
agents, metrics and the operations views together, and `run_worker` starts it. Tests
build the same app with other settings (ports, memory store) or another clock.

Metrics: one `CollectorRegistry` per worker (not prometheus_client's global one), holding
faust's consumer-side metrics (its Prometheus sensor, `faust_*`) and the broker's own
(`mash_*`, broker.ops.metrics). faust's sensor also serves that registry at `/metrics` on
the worker's web server, beside the operations views (broker.ops.views).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from prometheus_client import CollectorRegistry

from agents import child, ingest, link
from agents.guard import report, stop_the_worker
from agents.link_loop import LoopLinker
from broker.app import create_app, group_instance_id
from broker.calendar.clock import Clock, EventClock, SystemClock
from broker.codec import codec_from_settings
from broker.config.partnership import PartnershipConfig, load_config
from broker.kafka.admin import client_options, create_topics, metadata_check
from broker.kafka.child_loop import ChildLoop, PartitionBatch
from broker.kafka.child_state import child_changelogs
from broker.kafka.gaps import GapProbe
from broker.kafka.ingest_loop import IngestLoop
from broker.kafka.link_loop import LinkLoop
from broker.kafka.link_migration import FromFaust
from broker.kafka.sensor import lean_prometheus_sensor
from broker.kafka.sink import KafkaSink
from broker.kafka.tables import Tables, declare_tables
from broker.models.internal import ChildMessage
from broker.ops import faust_state
from broker.ops.health import KafkaProbe
from broker.ops.logs import configure_logging
from broker.ops.metrics import DeadlineCounts, MeteredSink, Metrics
from broker.ops.state_dir import EXIT_STATE_UNWRITABLE, StateWatch, problem, unwritable
from broker.ops.views import Operations, register_views
from broker.ops.watchdog import ProgressWatch, watch_progress
from broker.pipeline.child_store import ChildStore
from broker.pipeline.link_state import LinkedBatch
from broker.pipeline.sink import Sink
from broker.settings import Settings
from broker.topics import LINKED, TopicSpec, all_topics, link_state_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    app: faust.App
    tables: Tables
    agents: dict[str, Any]
    metrics: Metrics
    operations: Operations
    state_watch: StateWatch


SinkWrapper = Callable[[Sink], Sink]
"""Wraps the worker's sink (the port where its records leave): a fault-injecting sink in
the crash tests, for instance. Production runs none."""

BeforeChildCommit = Callable[[PartitionBatch], object]
"""With the child loop: as `BeforeLinkCommit`, for one partition's transaction."""

BeforeLinkCommit = Callable[[LinkedBatch], object]
"""With the link loop: runs when a batch's records are acknowledged, before its
transaction commits (the crash tests' kill at the worst moment). Production runs none."""


def build_worker(
    settings: Settings,
    clock: Clock | None = None,
    *,
    wrap_sink: SinkWrapper | None = None,
    before_link_commit: BeforeLinkCommit | None = None,
    before_child_commit: BeforeChildCommit | None = None,
) -> Worker:
    clock = clock or clock_from_settings(settings)
    config = load_config(settings.partnership_file)  # validated before anything connects
    app = create_app(settings)
    codec = codec_from_settings(settings)
    registry = CollectorRegistry()
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="faust")
    lean_prometheus_sensor(app)  # the same metrics, looked up once (broker/kafka/sensor.py)
    metrics = Metrics(registry)
    kafka_sink: Sink = KafkaSink(app, codec)
    sink = MeteredSink(wrap_sink(kafka_sink) if wrap_sink else kafka_sink, metrics)
    tables = declare_tables(app, child=settings.child_stage == "faust")
    watch = StateWatch(settings.state_dir)  # a disk that refuses writes stops the worker
    if settings.store == "rocksdb":
        app.timer(interval=settings.state_check_seconds, name="state-dir")(watch.look)
    batch_max, within = settings.batch_max, settings.batch_within_seconds
    stepping: Any
    if settings.child_stage == "loop":
        stepping = child_loop(
            app,
            settings,
            codec,
            sink,
            clock=clock,
            config=config,
            metrics=metrics,
            before_commit=before_child_commit,
        )
        store, owned = stepping.store, stepping.owned_partitions
    else:
        store = ChildStore(tables.pictures, tables.inbox, tables.timers)
        stepping = child.register(
            app,
            codec,
            store,
            sink=sink,
            clock=clock,
            config=config,
            tick_seconds=settings.tick_seconds,
            batch_max=batch_max,
            batch_within=within,
            observer=metrics,
            on_fault=watch.fault,  # the disk's fault stops the worker
            gap_probe=(
                GapProbe(settings.kafka_bootstrap, client_options(settings))
                if settings.link_stage == "loop"  # its transactions' markers on broker.linked.v1
                else None
            ),
        )

        def owned() -> set[int]:
            return child.owned_partitions(app)

    def deadlines() -> DeadlineCounts:
        soon, late = store.deadline_counts(clock.now(), owned())
        return DeadlineCounts(due_within_hour=soon, overdue=late)

    metrics.watch_deadlines(deadlines)
    linking = (
        link_loop(app, settings, codec, clock, metrics, before_commit=before_link_commit)
        if settings.link_stage == "loop"
        else link.register(
            app,
            codec,
            tables,
            sink,
            clock,
            batch_max=batch_max,
            batch_within=within,
            observer=metrics,
            on_fault=watch.fault,  # the disk's fault stops the worker
        )
    )
    ingesting = (
        ingest_loop(app, settings, codec, sink, clock=clock, metrics=metrics)
        if settings.ingest_stage == "loop"
        else ingest.register(
            app, codec, sink, clock, batch_max=batch_max, batch_within=within, observer=metrics
        )
    )
    state = faust_state.FaustState(
        app,
        handled=lambda topic, partition: (
            store.next_offset(partition)
            if topic == LINKED.name and settings.child_stage == "faust"
            else None
        ),
        others=lambda: {**loop_lag(linking), **loop_lag(ingesting), **loop_lag(stepping)},
        held=lambda: sum(loop_held(stage) for stage in (linking, ingesting, stepping)),
    )
    metrics.watch_worker(state)
    faust_state.connect(app, state, metrics)
    agents = {
        "ingest": ingesting,
        "link": linking,
        "child": stepping,
    }
    probe = KafkaProbe(
        metadata_check(
            settings.kafka_bootstrap, client_options(settings), settings.health_kafka_timeout
        ),
        timeout=settings.health_kafka_timeout,
        ttl=settings.health_cache_seconds,
    )
    operations = Operations(registry, metrics, state, probe, settings.ops_refresh_seconds)
    operations.state_writable = lambda: watch.writable
    if settings.stuck_seconds > 0:
        operations.stuck = watch_for_stalls(app, settings, operations, state, metrics)
    register_views(app, operations)
    return Worker(app, tables, agents, metrics, operations, watch)


def watch_for_stalls(
    app: faust.App,
    settings: Settings,
    operations: Operations,
    state: faust_state.FaustState,
    metrics: Metrics,
) -> Callable[[], bool]:
    """Look every few seconds whether the worker is stuck (broker.ops.watchdog); returns
    what liveness asks. Ready is readiness itself: Kafka away is not a stall."""

    async def ready() -> bool:
        return (await operations.readiness()).ready

    progress = ProgressWatch(settings.stuck_seconds)
    look_for_stalls = watch_progress(
        progress,
        handled=lambda: metrics.handled,
        waiting=lambda: sum(state.lag().values()),
        ready=ready,
        clock=time.monotonic,
        on_stuck=lambda stuck: metrics.stuck.set(1),
    )
    app.timer(interval=min(5.0, settings.stuck_seconds / 4), name="stall-watch")(look_for_stalls)
    return lambda: progress.stuck is not None


def link_loop(
    app: faust.App,
    settings: Settings,
    codec: Any,
    clock: Clock,
    metrics: Metrics,
    *,
    before_commit: BeforeLinkCommit | None = None,
) -> LinkLoop:
    """The link stage as the transactional loop (broker/kafka/link_loop.py), run as a
    task of the faust app: started once the worker is up, cancelled when it stops. A
    loop that fails (a fault of our own, or fenced by another owner) stops the worker,
    as a faust agent's fault does (agents.guard.StopTheWorker)."""

    def published(outgoing: Any) -> None:
        for record, recorded_at in outgoing:
            metrics.record_published(record, recorded_at)

    loop = LinkLoop(
        LoopLinker(codec.decode_trusted, clock, observer=metrics),  # only ingest writes it
        codec,
        bootstrap=settings.kafka_bootstrap,
        app_id=settings.app_id,
        state_topic=link_state_topic(settings.app_id).name,
        client_options=client_options(settings),
        batch_max=settings.link_batch_max,
        instance_id=group_instance_id(settings),
        session_timeout_ms=int(settings.session_timeout_seconds * 1000),
        heartbeat_ms=int(settings.heartbeat_seconds * 1000),
        linger_ms=int(settings.producer_linger_seconds * 1000),
        batch_bytes=settings.producer_batch_bytes,
        on_committed=published,
        before_commit=before_commit or (lambda batch: None),
        migration=FromFaust(  # a worker that ran the faust link agent: its tables
            settings.kafka_bootstrap, settings.app_id, client_options(settings)
        ),
    )
    run_beside_faust(app, loop.run, "the link loop stopped")
    return loop


def run_beside_faust(app: faust.App, run: Callable[[], Awaitable[None]], stopped: str) -> None:
    """A stage's loop as a task of the faust app: started once the worker is up,
    cancelled when it stops; one that fails stops the worker, as an agent's fault does."""

    async def run_loop() -> None:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            stop_the_worker(exc, stopped)

    app.task(run_loop)


def loop_lag(stage: Any) -> Mapping[tuple[str, int], int]:
    """A stage run as a loop beside faust: its lag by partition (none for a faust agent,
    whose lag faust's own consumer reports)."""
    return stage.lag() if isinstance(stage, LinkLoop | IngestLoop | ChildLoop) else {}


def loop_held(stage: Any) -> int:
    """A stage run as a loop beside faust: how many partitions it holds in its own
    group (0 for a faust agent, whose partitions faust's assignor counts)."""
    return stage.held() if isinstance(stage, LinkLoop | IngestLoop | ChildLoop) else 0


def ingest_loop(
    app: faust.App, settings: Settings, codec: Any, sink: Sink, *, clock: Clock, metrics: Metrics
) -> IngestLoop:
    """The ingest stage as a loop (broker/kafka/ingest_loop.py), run as a task of the
    faust app like the link loop, and stopping the worker the same way if it fails. It
    runs the faust agent's function and sends through the same sink (the worker's
    producer, metered)."""

    async def handle(messages: Sequence[tuple[bytes, str]]) -> None:
        await ingest.handle_inbound_batch(messages, codec, sink, clock, observer=metrics)

    loop = IngestLoop(
        handle,
        bootstrap=settings.kafka_bootstrap,
        app_id=settings.app_id,
        client_options=client_options(settings),
        batch_max=settings.link_batch_max,
        instance_id=group_instance_id(settings),
        session_timeout_ms=int(settings.session_timeout_seconds * 1000),
        heartbeat_ms=int(settings.heartbeat_seconds * 1000),
    )
    run_beside_faust(app, loop.run, "the ingest loop stopped")
    return loop


def child_loop(
    app: faust.App,
    settings: Settings,
    codec: Any,
    sink: Sink,
    *,
    clock: Clock,
    config: PartnershipConfig,
    metrics: Metrics,
    before_commit: BeforeChildCommit | None = None,
) -> ChildLoop:
    """The child stage as the transactional loop (broker/kafka/child_loop.py), run as a
    task of the faust app like the link loop, with the agent's ticker over its store.
    The ticks go through the worker's sink (its producer, outside any transaction)."""

    def decode(raw: bytes) -> ChildMessage:  # only the link stage and the ticker write it
        return codec.decode_trusted_as(raw, ChildMessage)  # type: ignore[no-any-return]

    async def handle(
        items: Sequence[tuple[bytes, int]], offsets: Sequence[int], store: ChildStore, out: Sink
    ) -> list[str]:
        return await child.handle_child_batch(
            items, decode, store, out, config=config, clock=clock, message_offsets=offsets
        )  # its outcomes reported once committed (`published`), not at each attempt

    def published(batch: PartitionBatch) -> None:
        for record, recorded_at in batch.outgoing:
            metrics.record_published(record, recorded_at)
        report(metrics, "child", batch.outcomes)

    loop = ChildLoop(
        handle,
        codec,
        bootstrap=settings.kafka_bootstrap,
        app_id=settings.app_id,
        client_options=client_options(settings),
        batch_max=settings.link_batch_max,
        instance_id=group_instance_id(settings),
        session_timeout_ms=int(settings.session_timeout_seconds * 1000),
        heartbeat_ms=int(settings.heartbeat_seconds * 1000),
        linger_ms=int(settings.producer_linger_seconds * 1000),
        batch_bytes=settings.producer_batch_bytes,
        on_committed=published,
        before_commit=before_commit or (lambda batch: None),
    )
    run_beside_faust(app, loop.run, "the child loop stopped")
    ticker = child.Ticker(loop.store, sink, clock)
    child.register_ticker(app, ticker, loop.owned_partitions, tick_seconds=settings.tick_seconds)
    return loop


def worker_topics(settings: Settings) -> list[TopicSpec]:
    """The topics a worker creates at start: every declared one, the link loop's state
    topic when it runs the link loop, and the child tables' changelogs when it runs the
    child loop (faust creates them for its agent's tables)."""
    topics = all_topics()
    if settings.link_stage == "loop":
        topics = [*topics, link_state_topic(settings.app_id)]
    if settings.child_stage == "loop":
        topics = [*topics, *child_changelogs(settings.app_id, settings.topic_partitions)]
    return topics


def clock_from_settings(settings: Settings) -> Clock:
    if settings.clock == "event":
        return EventClock(settings.clock_floor_file)
    return SystemClock()


def run_worker(
    settings: Settings,
    *,
    wrap_sink: SinkWrapper | None = None,
    before_link_commit: BeforeLinkCommit | None = None,
    before_child_commit: BeforeChildCommit | None = None,
) -> int:
    configure_logging()
    if settings.store == "rocksdb" and (found := problem(settings.state_dir)) is not None:
        unwritable(settings.state_dir, found)  # before joining the group: others take over
        return EXIT_STATE_UNWRITABLE
    asyncio.run(
        create_topics(
            settings.kafka_bootstrap,
            worker_topics(settings),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
            client_options=client_options(settings),  # TLS/SASL on a real cluster
        )
    )
    worker = build_worker(
        settings,
        wrap_sink=wrap_sink,
        before_link_commit=before_link_commit,
        before_child_commit=before_child_commit,
    )
    log.info("worker starting", extra={"count": len(worker.agents)})
    runner = faust.Worker(worker.app, loglevel="INFO", override_logging=False, quiet=True)
    runner.spinner = None  # a terminal spinner would write non-JSON bytes to the log
    runner.execute_from_commandline()
    return 0
