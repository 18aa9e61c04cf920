"""One real Kafka for the whole integration session, on free loopback ports.

Starting Kafka takes a few seconds, so it is started once per session (not per test) in
a temporary data directory, and stopped at the end. The jars are cached under the
repository's `.kafka/jars` (git-ignored), so only the very first run fetches them; the
schema registry's build likewise under `.kafka/registry`.

Every test in this directory is marked `integration` here, so `-m "not integration"`
leaves them all out without each test having to say so.

The topics of broker/topics.py are shared by the whole session and have ONE partition
(`DECLARED_PARTITIONS`): whichever test creates them first (a worker at start, or the
smoke test) must use that count, or faust's tables and their sources disagree.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from broker.kafka.admin import create_topics
from broker.kafka.jars import ensure_jars
from broker.kafka.local import LocalKafka
from broker.kafka.registry import LocalRegistry, ensure_registry
from broker.settings import PROJECT_ROOT
from broker.topics import TopicSpec

HERE = Path(__file__).resolve().parent
JAR_CACHE = PROJECT_ROOT / ".kafka" / "jars"
REGISTRY_BUILD = PROJECT_ROOT / ".kafka" / "registry"
DECLARED_PARTITIONS = 1

#: `await new_topics("orders", "payments", partitions=3)` -> the unique names created.
TopicFactory = Callable[..., Awaitable[list[str]]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest hook sees every collected item of the session, not only this folder's.
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


def free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out and nobody listens on (held open together, so
    the `count` ports are distinct)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """The session's LocalKafka; a test may stop and start it (same ports, same data)."""
    jar_dir = ensure_jars(JAR_CACHE)
    port, controller_port = free_ports(2)
    server = LocalKafka(tmp_path_factory.mktemp("kafka"), jar_dir, port, controller_port)
    with server:
        yield server


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka: LocalKafka) -> str:
    """`127.0.0.1:PORT` of the session's Kafka."""
    return kafka.bootstrap


@pytest.fixture(autouse=True)
def _kafka_running(kafka: LocalKafka) -> None:
    """A test that stopped Kafka and failed before restarting it must not fail the rest."""
    if not kafka.is_running():
        kafka.start()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    """A Kafka of the test's own, for tests whose meaning depends on a clean cluster:
    a worker on the event clock (no other test's later events), or one that stops it."""
    port, controller = free_ports(2)
    server = LocalKafka(tmp_path / "kafka", ensure_jars(JAR_CACHE), port, controller)
    with server:
        yield server


@pytest.fixture
def schema_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    """A real schema registry of the test's own (Apicurio, in memory: empty at each start),
    global compatibility BACKWARD; `.url` is what MASH_SCHEMA_REGISTRY_URL is set to."""
    [port] = free_ports(1)
    with LocalRegistry(ensure_registry(REGISTRY_BUILD), tmp_path / "registry", port) as registry:
        yield registry


@pytest.fixture
def new_topics(kafka_bootstrap: str) -> TopicFactory:
    """Creates fresh, uniquely named topics, so tests never read each other's records."""

    async def make(*prefixes: str, partitions: int = 1, compacted: bool = False) -> list[str]:
        specs = [
            TopicSpec(f"{p}-{uuid.uuid4().hex[:12]}", compacted=compacted)
            for p in prefixes or ("test",)
        ]
        await create_topics(kafka_bootstrap, specs, partitions, 1)
        return [s.name for s in specs]

    return make
