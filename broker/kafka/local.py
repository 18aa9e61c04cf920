"""The local development Kafka: one KRaft node (broker and controller in one JVM) on loopback.

Why a real Kafka and not a fake: the broker's guarantees (ordering per key, committed
offsets surviving a restart, compacted topics, faust's changelogs and rebalances) are
Kafka's behaviour, and only the real thing shows whether faust-streaming and aiokafka
still agree with it. Why not a container: developers and CI have Java and Maven but no
container engine, so the jars come from Maven Central (deploy/local/pom.xml) and
`kafka.Kafka` runs as a plain child process.

The process is started detached (its own session, output to a file, a pid file) so that
`mash-broker kafka up` can return while Kafka keeps running, and `down`/`status` from
another process find it again by the pid file. Tests use the same class as a context
manager and stop it at the end of the session.
"""

from __future__ import annotations

import base64
import logging
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Final, TypeVar

from broker.errors import ConfigurationError, InfrastructureError
from broker.kafka.admin import cluster_description, create_topics
from broker.kafka.jars import KAFKA_VERSION, LOG4J_CONFIG, ensure_jars
from broker.kafka.process import (
    LocalProcess,
    blocking,
    is_alive,
    is_our_process,
    port_open,
    signal_group,
    tool,
)
from broker.settings import Settings
from broker.topics import all_topics

__all__ = ["LocalKafka", "down", "status", "up"]

log = logging.getLogger(__name__)

#: Measured on the 2-core development machine (median of 7 restarts, start to "answers a
#: metadata request"): JVM defaults ~2.9-4.4 s, C1-only JIT ~2.3 s, plus the serial
#: collector ~2.3-2.6 s. A one-node dev broker needs neither C2's peak throughput nor G1's
#: pause goals, and the serial collector leaves the second core to the tests.
JVM_FLAGS: Final = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
_HEAP = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")
_T = TypeVar("_T")
# Popen objects of Kafkas left running on purpose (`up`): referenced until the interpreter
# exits so that their finaliser never warns about a still-running child.
_DETACHED: list[subprocess.Popen[bytes]] = []


class LocalKafka(LocalProcess):
    """One single-node KRaft Kafka listening on 127.0.0.1:`port`."""

    host: Final = "127.0.0.1"

    def __init__(
        self,
        data_dir: Path,
        jar_dir: Path,
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = "512m",
        *,
        log4j_config: Path = LOG4J_CONFIG,
    ) -> None:
        if not _HEAP.match(heap):
            raise ConfigurationError(f"heap size {heap!r} is not of the JVM's form (e.g. 512m)")
        if port == controller_port:
            raise ConfigurationError("the Kafka and controller ports must differ")
        self.data_dir = Path(data_dir)
        self.jar_dir = Path(jar_dir)
        self.port = port
        self.controller_port = controller_port
        self.heap = heap
        self.log4j_config = log4j_config
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalKafka:
        root = settings.local_kafka_dir
        return cls(
            root / "data",
            root / "jars",
            settings.local_kafka_port,
            settings.local_kafka_controller_port,
            settings.local_kafka_heap,
        )

    # -- where things are -------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dirs(self) -> Path:
        """Kafka's own data (topic partitions and the `__cluster_metadata` log)."""
        return self.data_dir / "kraft-combined-logs"

    @property
    def logs_dir(self) -> Path:
        """Human-readable logs: log4j's server.log and the JVM's console output."""
        return self.data_dir / "logs"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "kafka.out"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    def server_properties(self) -> dict[str, str]:
        """The broker's configuration: production-like where it matters, one node otherwise."""
        return {
            "node.id": "1",
            "process.roles": "broker,controller",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},"
            f"CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.bootstrap.servers": f"{self.host}:{self.controller_port}",
            "log.dirs": str(self.log_dirs),
            "num.partitions": "1",
            # One node: every internal topic can have one replica only.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # A consumer group forms at once instead of after 3 s (tests, `worker` restarts).
            "group.initial.rebalance.delay.ms": "0",
            # As in production: every topic is declared (broker/topics.py), none by accident.
            "auto.create.topics.enable": "false",
        }

    # -- lifecycle --------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start Kafka unless it already runs, and return once it answers metadata requests.

        Raises `InfrastructureError` (with the tail of Kafka's log) when it does not.
        """
        deadline = time.monotonic() + timeout
        if self.is_running():
            self._wait_ready(deadline)
            return
        for port in (self.port, self.controller_port):
            if port_open(self.host, port):
                raise InfrastructureError(f"port {port} on {self.host} is already in use")
        if not any(self.jar_dir.glob("*.jar")):
            raise ConfigurationError(f"no Kafka jars in {self.jar_dir}: run ensure_jars first")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(
            "".join(f"{k}={v}\n" for k, v in self.server_properties().items()), "utf-8"
        )
        if not (self.log_dirs / "meta.properties").exists():
            self._format()
        log.info("starting Kafka %s on %s", KAFKA_VERSION, self.bootstrap)
        with self.console_log.open("ab") as out:
            self._proc = subprocess.Popen(
                [
                    *self._java("-Xms" + self.heap, "-Xmx" + self.heap),
                    "kafka.Kafka",
                    str(self.properties_file),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._proc.pid}\n", "utf-8")
        try:
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        log.info("Kafka answers on %s (pid %d)", self.bootstrap, self._proc.pid)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully (SIGTERM: Kafka flushes and closes its logs), SIGKILL if it hangs."""
        pid = self.pid()
        if pid is not None:
            log.info("stopping Kafka (pid %d)", pid)
            signal_group(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                log.warning("Kafka (pid %d) ignored SIGTERM for %.0fs: killing it", pid, timeout)
                signal_group(pid, signal.SIGKILL)
                self._wait_exit(pid, 10.0)
        for proc in [p for p in [self._proc, *_DETACHED] if p is not None and p.pid == pid]:
            proc.wait(timeout=10.0)  # reap our own child, so that no zombie is left
            if proc in _DETACHED:
                _DETACHED.remove(proc)
        self._proc = None
        self.pid_file.unlink(missing_ok=True)

    def detach(self) -> None:
        """Leave Kafka running after this object (and process) is gone, as `up` does."""
        if self._proc is not None:
            _DETACHED.append(self._proc)
            self._proc = None

    def pid(self) -> int | None:
        """The pid of this data directory's Kafka, if one runs (checked, not just read)."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int(self.pid_file.read_text("utf-8").strip())
        except (OSError, ValueError):
            return None
        return pid if is_our_process(pid, str(self.properties_file)) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def reachable(self, timeout: float = 5.0) -> bool:
        """Whether Kafka answers a metadata request with itself as a live broker."""
        if not port_open(self.host, self.port):
            return False
        try:
            meta = blocking(
                lambda: cluster_description(
                    self.bootstrap,
                    request_timeout_ms=int(timeout * 1000),
                    client_options=self.client_options(),
                )
            )
        except Exception:  # any failure of the probe means "not (yet) reachable"
            return False
        return bool(meta.get("brokers")) and meta.get("controller_id", -1) not in (None, -1)

    def status(self) -> dict[str, object]:
        pid = self.pid()
        return {
            "version": KAFKA_VERSION,
            "running": pid is not None,
            "pid": pid,
            "port": self.port,
            "controller_port": self.controller_port,
            "bootstrap": self.bootstrap,
            "reachable": pid is not None and self.reachable(),
            "data_dir": str(self.data_dir),
        }

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of Kafka's log and console output, to explain a failure."""
        parts = []
        for path in (self.logs_dir / "server.log", self.console_log):
            if path.exists():
                text = path.read_text("utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts) or "(no log written)"

    # -- hooks for a secured variant (broker/kafka_secure.py); none here ------------------

    def client_options(self) -> dict[str, Any]:
        """aiokafka options this node's own probes connect with: none (PLAINTEXT)."""
        return {}

    def format_options(self) -> list[str]:
        """Extra `kafka-storage format` arguments (e.g. SCRAM credentials): none."""
        return []

    # -- internals --------------------------------------------------------------------

    def _java(self, *flags: str) -> list[str]:
        return [
            tool("java"),
            *flags,
            *JVM_FLAGS,
            f"-Dlog4j2.configurationFile={self.log4j_config}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            str(self.jar_dir / "*"),
        ]

    def _format(self) -> None:
        """Format the storage once: a KRaft node will not start on an unformatted log dir."""
        cmd = [
            *self._java("-Xmx256m"),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            f"--cluster-id={new_cluster_id()}",
            "--config",
            str(self.properties_file),
            *self.format_options(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise InfrastructureError(
                f"formatting Kafka storage failed (exit {done.returncode}):\n"
                + (done.stdout + done.stderr)[-3000:]
            )

    def _wait_ready(self, deadline: float) -> None:
        while True:
            if self.pid() is None:
                raise InfrastructureError(f"Kafka exited during start-up.\n{self.log_tail()}")
            if self.reachable(timeout=3.0):
                return
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"Kafka did not answer on {self.bootstrap} in time.\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not is_alive(pid):
                return True
            time.sleep(0.1)
        return False


def new_cluster_id() -> str:
    """A random cluster id in Kafka's form: 16 random bytes, URL-safe base64, no padding.

    Like Kafka's own `Uuid.randomUuid()`, never one starting with '-', which command-line
    parsers take for an option.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):
            return text


# -- the CLI's entry points (broker/cli.py: `mash-broker kafka up|down|status`) -------------


def up(settings: Settings, timeout: float = 120.0) -> str:
    """Fetch the jars if needed, start Kafka unless it runs, create every declared topic."""
    kafka = LocalKafka.from_settings(settings)
    ensure_jars(kafka.jar_dir)
    was_running = kafka.is_running()
    kafka.start(timeout=timeout)
    kafka.detach()
    # One broker: every topic has one replica, whatever production's replication is.
    created = blocking(
        lambda: create_topics(kafka.bootstrap, all_topics(), settings.topic_partitions, 1)
    )
    state = "already running" if was_running else "started"
    return (
        f"Kafka {KAFKA_VERSION} {state} on {kafka.bootstrap} (pid {kafka.pid()}); "
        f"{len(created)} topic(s) created"
    )


def down(settings: Settings) -> str:
    kafka = LocalKafka.from_settings(settings)
    if not kafka.is_running():
        return "Kafka is not running"
    kafka.stop()
    return f"Kafka on {kafka.bootstrap} stopped"


def status(settings: Settings) -> str:
    st = LocalKafka.from_settings(settings).status()
    if not st["running"]:
        return f"Kafka {KAFKA_VERSION} is not running (data in {st['data_dir']})"
    answer = "reachable" if st["reachable"] else "NOT answering"
    return f"Kafka {KAFKA_VERSION} running (pid {st['pid']}) on {st['bootstrap']}, {answer}"
