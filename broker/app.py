"""The faust application, and nothing else.

Built by a function, never at import time: importing this module connects to nothing.
Tables will hold social care data, so faust's web views of tables are switched off
(`web_tables_enabled=False`): they must never be served over HTTP.
"""

from __future__ import annotations

import hashlib
import socket

import faust

from broker.kafka.admin import client_options
from broker.kafka.placement import partitioner
from broker.kafka.tables import WorkerTable
from broker.kafka.transport import App
from broker.settings import Settings


def create_app(settings: Settings) -> faust.App:
    # faust's App, its consumer reading a never-committed partition again: broker.kafka.transport
    return App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=_credentials(settings),
        autodiscover=False,
        datadir=str(settings.state_dir),
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=True,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=settings.producer_linger_seconds,
        producer_max_batch_size=settings.producer_batch_bytes,
        producer_partitioner=partitioner,  # the default's choice, a key's hash remembered
        web_enabled=settings.worker_web_port > 0,
        web_host=settings.worker_web_host,
        web_bind=settings.worker_web_host,
        web_port=settings.worker_web_port or 6066,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_in_thread=False,
        table_standby_replicas=1,
        Table=WorkerTable,  # faust's table, two faults fixed: its docstring
        # a killed worker restarted rejoins as itself: no wait for its old session to expire
        consumer_group_instance_id=group_instance_id(settings),
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_seconds,
        stream_wait_empty=True,
        consumer_metadata_max_age_ms=METADATA_MAX_AGE_MS,
    )


METADATA_MAX_AGE_MS = 10_000
"""How often the consumer refreshes its topic metadata (Kafka's default: 5 minutes).

The group leader assigns only the topics its metadata knows: a topic created a moment
before the worker subscribed (faust declares the tables' changelogs at start; an
operator adds an agency's topic) is "not found in cluster metadata", ignored by the
assignor, and its partitions belong to no one until the next refresh shows it and the
leader starts a rebalance. With the default that was up to five minutes of a topic
unread while the worker answered ready (bench.live's latency phase: 173 of 185
partitions assigned, 2,998 of 3,000 notices never read). A metadata request every 10 s
is nothing to a cluster."""


def group_instance_id(settings: Settings) -> str:
    """The worker's static member id: the configured one, else one derived from what a
    worker keeps across restarts and never shares with another (its host and its state
    directory: two workers cannot open one RocksDB store), and always with the web
    address it advertises. faust's assignor checks that an assignment names this
    worker's URL, and a static member gets its previous assignment back: a worker
    restarted on another port under the same id would fail that check and never become
    ready (tests/integration/test_deadline_while_down.py found it).

    With the link stage as the loop, the id says so too: faust's consumer then no longer
    subscribes to broker.accepted.v1, and a static member that rejoins under its old id
    with another subscription is handed its previous assignment back, without a
    rebalance. aiokafka then fails an assertion (an assignment of a topic it did not
    subscribe to) and the worker never becomes ready: a worker switched from the faust
    link agent to the loop did so (tests/integration/test_link_loop_migration.py). As a
    new member it is assigned afresh (its old id leaves once its session times out). The
    ingest stage as the loop (MASH_INGEST_STAGE) and the child stage as the loop
    (MASH_CHILD_STAGE) take their topics from faust's subscription in the same way, and
    are said in the id too."""
    address = f"{settings.worker_web_host}:{settings.worker_web_port}"
    stage = "" if settings.link_stage == "faust" else f"-{settings.link_stage}"
    stage += "-ingest-loop" if settings.ingest_stage == "loop" else ""  # the same, for ingest
    stage += "-child-loop" if settings.child_stage == "loop" else ""  # and for the child stage
    if settings.worker_instance_id:
        return f"{settings.worker_instance_id}{stage}@{address}"
    where = f"{socket.gethostname()}:{settings.state_dir.resolve()}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:16]
    return f"{settings.app_id}-{digest}{stage}@{address}"


def _credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """SASL over TLS for a production cluster; nothing for the local PLAINTEXT broker.

    The choices (trust store, default mechanism) are made once, in `client_options`, so
    the worker and the admin client always connect the same way.
    """
    options = client_options(settings)
    protocol = options["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    context = options.get("ssl_context")
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    return faust.SASLCredentials(
        username=options["sasl_plain_username"],
        password=options["sasl_plain_password"],
        mechanism=options["sasl_mechanism"],
        ssl_context=context,
    )
