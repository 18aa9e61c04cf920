"""deploy/compose.yaml is valid Compose and keeps the durability settings that matter.

`docker-compose config` (Debian's `docker-compose` package) validates the file against
the Compose schema and resolves anchors and merges; no container engine is needed. The
resolved file is then read back as data: three KRaft nodes in one quorum, replication
factor 3, min.insync.replicas 2, no automatic topic creation, workers told to create
topics with replication 3.

The resolved YAML is parsed with PyYAML when the project has it, else with the Python
that runs docker-compose itself (Debian's docker-compose is a Python program that
depends on python3-yaml), so the check needs nothing beyond the apt package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from broker.settings import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "deploy" / "compose.yaml"
DOCKER_COMPOSE = shutil.which("docker-compose")
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
WORKERS = ("worker-1", "worker-2")

pytestmark = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not installed (Debian: apt-get install -y docker-compose)",
)


def _yaml_to_data(text: str, compose_binary: str) -> Any:
    try:
        import yaml
    except ImportError:
        pass
    else:
        return yaml.safe_load(text)
    interpreter = _interpreter_of(compose_binary)
    converted = subprocess.run(
        [
            interpreter,
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(converted.stdout)


def _interpreter_of(script: str) -> str:
    """The interpreter named by a script's `#!` line (docker-compose v1 is Python)."""
    first = Path(script).read_bytes().split(b"\n", 1)[0].decode()
    if not first.startswith("#!"):
        pytest.fail(f"{script} is not a script; install PyYAML to read its output")
    parts = first[2:].split()
    return parts[-1] if Path(parts[0]).name == "env" else parts[0]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert DOCKER_COMPOSE is not None
    done = subprocess.run(
        [DOCKER_COMPOSE, "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    data = _yaml_to_data(done.stdout, DOCKER_COMPOSE)
    assert isinstance(data, dict)
    return data


def _env(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = compose["services"][service]["environment"]
    return {k: str(v) for k, v in env.items()}


def test_three_kraft_nodes_in_one_quorum(compose: dict[str, Any]) -> None:
    brokers = {n: s for n, s in compose["services"].items() if n.startswith("kafka-")}
    assert sorted(brokers) == list(BROKERS)
    voters = {_env(compose, b)["KAFKA_CONTROLLER_QUORUM_VOTERS"] for b in BROKERS}
    assert voters == {"1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert {_env(compose, b)["KAFKA_NODE_ID"] for b in BROKERS} == {"1", "2", "3"}
    assert len({_env(compose, b)["CLUSTER_ID"] for b in BROKERS}) == 1
    for name, service in brokers.items():
        assert service["image"] == "apache/kafka:4.3.1", name
        assert _env(compose, name)["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert service["volumes"], f"{name} keeps its data on a volume"


@pytest.mark.parametrize("broker", BROKERS)
def test_replication_three_min_isr_two_no_auto_create(compose: dict[str, Any], broker: str) -> None:
    env = _env(compose, broker)
    assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
    assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"


@pytest.mark.parametrize("worker", WORKERS)
def test_workers_create_replicated_topics_and_keep_their_own_state(
    compose: dict[str, Any], worker: str
) -> None:
    service = compose["services"][worker]
    env = _env(compose, worker)
    assert env["MASH_TOPIC_REPLICATION"] == "3"
    assert int(env["MASH_TOPIC_PARTITIONS"]) >= len(WORKERS)
    assert env["MASH_STORE"] == "rocksdb"
    assert sorted(env["MASH_KAFKA_BOOTSTRAP"].split(",")) == [f"{b}:19092" for b in BROKERS]
    assert service["command"] == ["mash-broker", "worker"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert set(service["depends_on"]) == set(BROKERS)
    # RocksDB locks its directory: two workers must never share a state volume.
    volumes = {str(v).split(":", 1)[0] for v in service["volumes"]}
    others = {
        str(v).split(":", 1)[0]
        for w in WORKERS
        if w != worker
        for v in compose["services"][w]["volumes"]
    }
    assert volumes
    assert not volumes & others


def test_workers_advertise_distinct_web_hosts(compose: dict[str, Any]) -> None:
    hosts = [_env(compose, w)["MASH_WORKER_WEB_HOST"] for w in WORKERS]
    assert sorted(hosts) == sorted(WORKERS)


def test_no_secrets_or_host_wide_ports(compose: dict[str, Any]) -> None:
    """Published ports bind to loopback only; no password is written into the file."""
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            published = port if isinstance(port, str) else json.dumps(port)
            assert published.startswith("127.0.0.1:") or '"host_ip": "127.0.0.1"' in published, name
        assert not any("PASSWORD" in k for k in service.get("environment", {})), name
