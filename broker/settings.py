"""The one reader of the environment.

Every other module is *handed* a `Settings` (or the part of it it needs): nothing else
calls `os.environ`. The object is frozen so that a running worker's configuration cannot
drift, and secrets are `SecretStr` so they never print in a log or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of one broker process, from `MASH_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MASH_", frozen=True, extra="ignore")

    # Kafka
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="host:port[,host:port] of the Kafka cluster"
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication: int = Field(default=1, ge=1)

    # The faust application
    app_id: str = "mash-broker"
    worker_web_port: int = Field(default=6066, ge=0, le=65535)
    worker_web_host: str = "127.0.0.1"
    state_dir: Path = PROJECT_ROOT / ".state"
    store: Literal["memory", "rocksdb"] = "rocksdb"
    state_check_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="rocksdb: how often the worker checks that its state directory can be "
        "written; when it cannot, the worker stops with exit status 75 (docs/operations.md)",
    )
    # Recovery after a crash (docs/operations.md, "Recovery after a crash"): a worker
    # killed and restarted rejoins its consumer group as the *same* member (static
    # membership, KIP-345), so the group does not wait for the dead member's session to
    # expire before anyone processes again (about a minute with faust's defaults).
    worker_instance_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the worker's group.instance.id: unique in the group and the same across "
        "its restarts (a pod's stable name). Unset: derived from the host name and the state "
        "directory, which a worker keeps across restarts and never shares",
    )
    session_timeout_seconds: float = Field(
        default=10.0,
        ge=6,
        le=90,
        description="how long a worker may be silent before Kafka gives its partitions to the "
        "others (faust's default is 60): a worker that does not come back stalls its "
        "partitions this long; one that comes back sooner keeps them, with no rebalance",
    )
    heartbeat_seconds: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="how often a worker tells Kafka it is alive and learns of a rebalance; "
        "at most a third of the session timeout",
    )
    stuck_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="how long a ready worker may have messages waiting and handle none "
        "before it is taken as stuck: an error says where it waits, and its liveness "
        "fails so that it is restarted (broker.ops.watchdog). 0: never",
    )

    # Operations: health checks, the /ops page and `mash-broker status` (docs/operations.md)
    health_kafka_timeout: float = Field(
        default=2.0, gt=0, le=30, description="seconds the readiness metadata request may take"
    )
    health_cache_seconds: float = Field(
        default=5.0, ge=0, le=60, description="how long a readiness answer about Kafka is reused"
    )
    ops_refresh_seconds: int = Field(default=5, ge=1, le=3600)

    # Wire format: the Avro single-object encoding with schemas/ as the registry unless a
    # Confluent-compatible schema registry (Confluent, Karapace) is configured.
    schema_registry_url: str | None = None
    schemas_dir: Path = PROJECT_ROOT / "schemas"

    # The local development Kafka (deploy/local)
    local_kafka_dir: Path = PROJECT_ROOT / ".kafka"
    local_kafka_port: int = Field(default=9092, ge=1, le=65535)
    local_kafka_controller_port: int = Field(default=9093, ge=1, le=65535)
    local_kafka_heap: str = "512m"

    # The partnership's configuration (broker/config/partnership.py): thresholds, deadlines,
    # lawful bases. Unset: the one shipped in broker/data/partnership.json.
    partnership_file: Path | None = Field(
        default=None,
        description="a partnership file (JSON, whole; or TOML, changes to the shipped one) "
        "that the worker, the MASH page and replay run, and what-if's default baseline",
    )

    # Time: every deadline is local to England.
    timezone: str = "Europe/London"

    # The MASH page (`mash-broker web`, docs/web.md): its own process over materialised
    # views, never the worker's web server (which the operations team sees).
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_users_file: Path = PROJECT_ROOT / "deploy" / "demo" / "users.json"
    web_session_secret: SecretStr | None = Field(
        default=None, description="signs session cookies; unset: a new one each start"
    )
    web_session_max_age: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    web_secure_cookies: bool = Field(
        default=False, description="send the session cookie over HTTPS only (behind TLS)"
    )
    web_stream_seconds: float = Field(default=300.0, gt=0, le=3600)
    clock: Literal["system", "event"] = Field(
        default="system",
        description="system: the wall clock (production); event: the latest recorded_at seen "
        "(one worker only: tests that compare the worker with replay, demos of old data)",
    )
    clock_floor_file: Path | None = Field(
        default=None, description="event clock: a file holding an ISO instant the clock is at least"
    )
    tick_seconds: float = Field(
        default=5.0, gt=0, le=300, description="how often the worker looks for deadlines due"
    )
    batch_max: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="the most messages an agent takes at once: their records go to Kafka "
        "together (one round trip) and their offsets are acknowledged together once all are "
        "durable. A batch is what is ready, so under light traffic it is one message; 1 is "
        "faust's own message-by-message loop (docs/notes/faust-kafka.md)",
    )
    batch_within_seconds: float = Field(
        default=0.0,
        ge=0,
        le=5,
        description="how long an agent waits, after a batch's first message, for more to "
        "arrive. 0 (the default): it takes what is ready and goes; under load the next "
        "batch fills while one is processed. More trades latency for fuller batches",
    )

    link_stage: Literal["faust", "loop"] = Field(
        default="loop",
        description="faust: the link stage is the faust `link` agent (agents/link.py) with "
        "its tables. loop: a batched aiokafka consume-link-produce loop in the worker, one "
        "Kafka transaction per batch (outputs, state, offsets), its state in the compacted "
        "topic <app id>-link-state (docs/identity.md). A loop whose state topic is empty "
        "moves the faust link tables' state into it first (and faust's offset), once",
    )
    ingest_stage: Literal["faust", "loop"] = Field(
        default="loop",
        description="faust: the ingest stage is the faust `ingest` agent (agents/ingest.py). "
        "loop (the default): a batched aiokafka consume-decide-produce loop in the worker, "
        "at least once as the agent, in the consumer group <app id>-ingest, starting where "
        "the agent's group had got to (broker/kafka/ingest_loop.py). Switch with every "
        "worker stopped",
    )
    child_stage: Literal["faust", "loop"] = Field(
        default="loop",
        description="faust: the child stage is the faust `child` agent "
        "(agents/child.py) over its tables. loop (the default): a batched aiokafka "
        "consume-step-produce loop in the worker, a Kafka transaction per partition and "
        "batch (outputs, the tables' changes to their changelogs, the next offset), its "
        "state restored from the same "
        "changelogs the agent's tables use (broker/kafka/child_loop.py). Switch with every "
        "worker stopped",
    )
    link_batch_max: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="loop: the most records of broker.accepted.v1 in one batch (one transaction)",
    )

    producer_linger_seconds: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="how long a producer waits to gather records into one request. 0 (the "
        "default): every stage hands its whole batch to the producer before it yields, so "
        "a request holds the batch's records anyway, and waiting only added its time to "
        'each hop (5 ms until 2026-12-05: docs/notes/faust-kafka.md, "No linger")',
    )
    producer_batch_bytes: int = Field(
        default=262_144,
        ge=16_384,
        le=1_000_000,
        description="the most bytes of one partition's records in one produce request "
        "(faust's default, 16 KiB, holds some fifteen alerts)",
    )

    @model_validator(mode="after")
    def _heartbeat_within_session(self) -> Self:
        if self.heartbeat_seconds * 3 > self.session_timeout_seconds:
            raise ValueError("heartbeat_seconds must be at most a third of session_timeout_seconds")
        return self

    @property
    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap.split(",") if s.strip()]

    @property
    def broker_url(self) -> str:
        """The broker list in faust's URL form (`kafka://h1:p1;h2:p2`)."""
        return "kafka://" + ";".join(self.bootstrap_servers)
