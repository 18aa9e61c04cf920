"""Topic administration with aiokafka's admin client: create what `broker.topics` declares.

Every topic is created explicitly (clusters run with `auto.create.topics.enable=false`),
so a typo in a topic name fails loudly instead of silently creating a one-partition topic
that nothing reads. Creation is idempotent: a topic that already exists is left exactly as
it is (its partition count and configs are an operator's decision once it holds data),
which lets `mash-broker kafka up` and every worker start run it without coordination.

Only topic names and error codes are logged here, never record contents.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from aiokafka import TopicPartition
from aiokafka import errors as aiokafka_errors
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from broker.errors import ConfigurationError, InfrastructureError, NotAuthorized
from broker.settings import Settings
from broker.topics import TopicSpec

log = logging.getLogger(__name__)

#: Admin requests against a healthy cluster take milliseconds; a minute means it is away.
REQUEST_TIMEOUT_MS = 30_000


def topic_configs(spec: TopicSpec) -> dict[str, str]:
    """The topic-level configs a spec implies.

    Only `cleanup.policy` is set here: retention and `min.insync.replicas` differ between
    the one-node development Kafka and production and are set per cluster (deploy/README.md).
    """
    return {"cleanup.policy": "compact"} if spec.compacted else {}


def client_options(settings: Settings) -> dict[str, Any]:
    """aiokafka client keyword arguments for the cluster's TLS/SASL settings.

    The one place these choices are made (the faust app derives its credentials from
    it): the system trust store for TLS, SCRAM-SHA-512 unless another mechanism is
    configured. Pass the result as `client_options=` when the cluster is not the local
    PLAINTEXT one.
    """
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context()
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism or "SCRAM-SHA-512",
            "sasl_plain_username": settings.kafka_sasl_username or "",
            "sasl_plain_password": password.get_secret_value() if password else "",
        }
    return options


_REFUSALS: Final = (
    aiokafka_errors.TopicAuthorizationFailedError,
    aiokafka_errors.GroupAuthorizationFailedError,
    aiokafka_errors.ClusterAuthorizationFailedError,
    aiokafka_errors.SaslAuthenticationFailed,
    aiokafka_errors.AuthenticationFailedError,
)


@contextmanager
def refusals_as_not_authorized(what: str) -> Iterator[None]:
    """Kafka's refusals inside the block become `NotAuthorized`, saying `what` was
    refused ("reading agency.health.notification.v1"): a person at a terminal gets one
    line that says what to ask for, not aiokafka's traceback."""
    try:
        yield
    except _REFUSALS as exc:
        raise NotAuthorized(
            f"Kafka refused {what} ({type(exc).__name__}): check MASH_KAFKA_SASL_USERNAME "
            "and its password, and ask the operators for the ACL (deploy/README.md, 'ACLs')"
        ) from None


def admin_client(
    bootstrap: str, client_options: Mapping[str, Any] | None = None
) -> AIOKafkaAdminClient:
    """An admin client for `bootstrap`; `client_options` carries TLS/SASL settings."""
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        **dict(client_options or {}),
    )


async def create_topics(
    bootstrap: str,
    specs: list[TopicSpec],
    partitions: int,
    replication: int,
    *,
    client_options: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the topics of `specs` that do not exist yet; return the names created.

    Waits until the new topics are visible in the cluster metadata, so a producer started
    right after does not race the controller. Raises `InfrastructureError` when the
    cluster cannot be reached or refuses a topic (e.g. replication above the broker count).
    """
    admin = admin_client(bootstrap, client_options)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        await _check_fixed_partitions(admin, [s for s in specs if s.name in existing])
        wanted = [s for s in specs if s.name not in existing]
        if not wanted:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=s.name,
                    num_partitions=s.partitions or partitions,
                    replication_factor=replication,
                    topic_configs=topic_configs(s),
                )
                for s in wanted
            ],
            timeout_ms=REQUEST_TIMEOUT_MS,
        )
        created = _created(response.to_object()["topic_errors"])
        await _wait_visible(admin, created)
    except KafkaError as exc:
        raise InfrastructureError(f"Kafka at {bootstrap}: topic creation failed: {exc!r}") from exc
    finally:
        await admin.close()
    log.info("created %d topic(s): %s", len(created), ", ".join(created))
    return created


async def partition_counts(
    bootstrap: str, topics: Sequence[str], client_options: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """How many partitions each topic has (0: it does not exist). A consumer's own
    metadata knows only the topics it has subscribed to or been assigned."""
    admin = admin_client(bootstrap, client_options)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        found = dict.fromkeys(topics, 0)
        wanted = [t for t in topics if t in existing]
        for topic in await admin.describe_topics(wanted) if wanted else []:
            found[topic["topic"]] = len(topic.get("partitions", []))
        return found
    finally:
        await admin.close()


async def _check_fixed_partitions(admin: Any, specs: list[TopicSpec]) -> None:
    """A topic whose partition count the design fixes (the link stage's single
    partition) must have it: a worker on a wrong count would link on two writers."""
    fixed = {s.name: s.partitions for s in specs if s.partitions is not None}
    if not fixed:
        return
    for topic in await admin.describe_topics(list(fixed)):
        count = len(topic.get("partitions", []))
        if count != fixed[topic["topic"]]:
            raise ConfigurationError(
                f"topic {topic['topic']} has {count} partitions; the broker needs exactly "
                f"{fixed[topic['topic']]} (see deploy/README.md, 'Topics'): recreate it "
                "while no worker runs"
            )


def _created(topic_errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """The names the controller created; a concurrent creator's win is not an error."""
    created: list[str] = []
    refused: list[str] = []
    for entry in topic_errors:
        code = int(entry["error_code"])
        if code == 0:
            created.append(str(entry["topic"]))
        elif code != TopicAlreadyExistsError.errno:
            message = entry.get("error_message") or for_code(code).__name__
            refused.append(f"{entry['topic']}: {message}")
    if refused:
        raise InfrastructureError("Kafka refused to create topics: " + "; ".join(refused))
    return created


async def _wait_visible(
    admin: AIOKafkaAdminClient, names: list[str], timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while names:
        missing = set(names) - set(await admin.list_topics())
        if not missing:
            return
        if time.monotonic() > deadline:
            raise InfrastructureError(f"created topics not visible after {timeout:.0f}s")
        await asyncio.sleep(0.1)


async def describe_topic_configs(
    bootstrap: str,
    names: list[str],
    *,
    client_options: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, str]]:
    """The effective configs (defaults included) of each topic in `names`."""
    admin = admin_client(bootstrap, client_options)
    try:
        await admin.start()
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    except KafkaError as exc:
        raise InfrastructureError(
            f"Kafka at {bootstrap}: describe configs failed: {exc!r}"
        ) from exc
    finally:
        await admin.close()
    result: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise InfrastructureError(
                    f"describe configs of {resource['resource_name']}: "
                    f"{for_code(resource['error_code']).__name__}"
                )
            result[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
    return result


async def cluster_description(
    bootstrap: str,
    *,
    request_timeout_ms: int = 5_000,
    client_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Metadata of the cluster (brokers, controller id, cluster id): a liveness probe."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=request_timeout_ms,
        **dict(client_options or {}),
    )
    try:
        await admin.start()
        meta: dict[str, Any] = await admin.describe_cluster()
    finally:
        await admin.close()
    return meta


def metadata_check(
    bootstrap: str, client_options: Mapping[str, Any] | None = None, timeout: float = 2.0
) -> Callable[[], Awaitable[None]]:
    """A check with a client of its own: one bootstrap metadata request, then closed.

    Its own client, not the worker's consumer or producer, so that a probe can never
    interfere with (or be hidden by) the worker's own connections and retries.
    """

    async def check() -> None:
        client = AIOKafkaClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout * 1000),
            metadata_max_age_ms=60_000,
            **dict(client_options or {}),
        )
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return check


async def committed_offsets(
    bootstrap: str,
    group: str,
    partitions: Sequence[TopicPartition],
    client_options: Mapping[str, Any] | None = None,
) -> dict[TopicPartition, int]:
    """The offsets `group` committed for `partitions` (those it committed)."""
    admin = admin_client(bootstrap, client_options)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=list(partitions))
    finally:
        await admin.close()
    return {
        tp: meta.offset for tp, meta in committed.items() if meta is not None and meta.offset >= 0
    }
