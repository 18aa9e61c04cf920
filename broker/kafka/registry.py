"""The local schema registry: Apicurio Registry, in memory, on loopback, like the local Kafka.

Why a real registry and not a stand-in: what the Confluent framing relies on is the
registry's behaviour (one id per schema, ids that resolve, a compatibility rule that
refuses a breaking change), and only a real registry shows whether our client and it
agree. Why Apicurio 2.0.2.Final built by Maven: Apicurio publishes no runnable jar on
Maven Central, and of its app versions there only 2.0.2.Final resolves whole and runs on
Java 17 (deploy/local/registry/pom.xml says what the others lack). The build makes a
Quarkus "legacy-jar" runner (a jar and `lib/`) once; it starts in a few seconds.

It keeps everything in memory (H2), so every start is an empty registry. Like
Confluent's registry out of the box, and unlike Apicurio's default (no rule), it is
started with the global compatibility rule BACKWARD: a new schema under a subject must
read the data written with the subject's latest one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Final

from broker.errors import ConfigurationError, InfrastructureError
from broker.kafka.jars import DEPLOY_LOCAL, maven
from broker.kafka.process import LocalProcess, is_alive, locked, port_open, signal_group, tool

__all__ = ["REGISTRY_VERSION", "LocalRegistry", "ensure_registry"]

log = logging.getLogger(__name__)

#: Keep in step with deploy/local/registry/pom.xml; the reasons for this version are there.
REGISTRY_VERSION: Final = "2.0.2.Final"
REGISTRY_POM: Final = DEPLOY_LOCAL / "registry" / "pom.xml"
#: Every repository Apicurio's poms name is read from Maven Central (see the file).
REGISTRY_SETTINGS: Final = DEPLOY_LOCAL / "registry" / "settings.xml"
RUNNER: Final = f"local-registry-{REGISTRY_VERSION}-runner.jar"
BUILD_MARKER: Final = ".registry-version"
#: The Confluent-compatible API of Apicurio 2.x (Confluent's v6 REST API).
CCOMPAT_PATH: Final = "/apis/ccompat/v6"
#: Apicurio reads these at run time (Quarkus configuration): the prod profile, loopback
#: only, a small connection pool (one test client, not a service's load), quiet logs.
RUNTIME_PROPERTIES: Final = {
    "quarkus.profile": "prod",
    "quarkus.datasource.jdbc.initial-size": "2",
    "quarkus.datasource.jdbc.min-size": "2",
    "quarkus.datasource.jdbc.max-size": "20",
    "quarkus.log.level": "WARN",
    'quarkus.log.category."io.apicurio".level': "WARN",
}
#: As the local Kafka's (broker/kafka/local.py): a test registry needs neither C2's peak
#: throughput nor G1's pause goals, and the serial collector leaves a core to the tests.
JVM_FLAGS: Final = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


def ensure_registry(registry_dir: Path, pom: Path = REGISTRY_POM) -> Path:
    """Build the registry's runner under `registry_dir` (Maven, once) and return its jar.

    As `ensure_jars` does for Kafka: a marker records the version and a digest of the
    pom, nothing is built while it matches, and a file lock keeps two processes from
    building at once. Maven owns `registry_dir/build` (cleaned before each build).
    """
    registry_dir.mkdir(parents=True, exist_ok=True)
    build_dir = registry_dir / "build"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    want = f"apicurio {REGISTRY_VERSION} pom {digest}\n"
    marker = registry_dir / BUILD_MARKER
    runner = build_dir / RUNNER
    with locked(registry_dir / ".lock"):
        if marker.exists() and marker.read_text("utf-8") == want and runner.exists():
            return runner
        marker.unlink(missing_ok=True)
        log.info("building Apicurio Registry %s with Maven into %s", REGISTRY_VERSION, build_dir)
        done = maven(
            pom,
            "-s",
            str(REGISTRY_SETTINGS),
            "clean",
            "package",
            f"-Dregistry.build.dir={build_dir}",
            timeout=1200.0,
        )
        if done.returncode != 0 or not runner.exists():
            raise InfrastructureError(
                f"Maven could not build Apicurio Registry {REGISTRY_VERSION} "
                f"(exit {done.returncode}):\n" + (done.stdout + done.stderr)[-3000:]
            )
        marker.write_text(want, "utf-8")
    return runner


class LocalRegistry(LocalProcess):
    """One in-memory Apicurio Registry on 127.0.0.1:`port`, global rule BACKWARD."""

    host: Final = "127.0.0.1"

    def __init__(self, runner: Path, work_dir: Path, port: int, heap: str = "256m") -> None:
        self.runner = Path(runner)
        self.work_dir = Path(work_dir)
        self.port = port
        self.heap = heap
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """What `MASH_SCHEMA_REGISTRY_URL` is set to: the Confluent-compatible API."""
        return self.base + CCOMPAT_PATH

    @property
    def console_log(self) -> Path:
        return self.work_dir / "registry.out"

    def start(self, timeout: float = 60.0) -> None:
        """Start it and return once it is ready and its global rule is BACKWARD.

        Raises `InfrastructureError` (with the tail of its log) when it is not ready
        within `timeout` seconds or exits first.
        """
        if self._proc is not None:
            return
        if not self.runner.exists():
            raise ConfigurationError(f"no registry at {self.runner}: run ensure_registry first")
        if port_open(self.host, self.port):
            raise InfrastructureError(f"port {self.port} on {self.host} is already in use")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        properties = {
            **RUNTIME_PROPERTIES,
            "quarkus.http.host": self.host,
            "quarkus.http.port": str(self.port),
        }
        cmd = [
            tool("java"),
            f"-Xmx{self.heap}",
            *JVM_FLAGS,
            *(f"-D{key}={value}" for key, value in properties.items()),
            "-jar",
            str(self.runner),
        ]
        log.info("starting Apicurio Registry %s on %s", REGISTRY_VERSION, self.base)
        with self.console_log.open("ab") as out:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir,
                start_new_session=True,
            )
        try:
            self._wait_ready(time.monotonic() + timeout)
            self.set_compatibility("BACKWARD")
        except BaseException:
            self.stop()
            raise

    def set_compatibility(self, level: str) -> None:
        """The global compatibility rule (BACKWARD, NONE, ...), through the Confluent API.

        Apicurio 2.0.2 answers 404 to Confluent's per-subject `PUT /config/{subject}`, so
        only the global rule is set here.
        """
        answer = self.call("PUT", "/config", {"compatibility": level})
        if not isinstance(answer, dict) or answer.get("compatibility") != level:
            raise InfrastructureError(f"the registry did not take compatibility {level}")

    def call(self, method: str, path: str, body: object = None) -> dict[str, object] | list[object]:
        """One call to the Confluent-compatible API (`path` below it); its JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (our own loopback URL)
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        )
        with urllib.request.urlopen(request, timeout=10.0) as response:  # noqa: S310
            answer: dict[str, object] | list[object] = json.loads(response.read())
        return answer

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Quarkus shuts down cleanly), SIGKILL if it hangs; reaps the child."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("the registry (pid %d) ignored SIGTERM: killing it", proc.pid)
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10.0)

    def is_running(self) -> bool:
        return self._proc is not None and is_alive(self._proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        if not self.console_log.exists():
            return "(no log written)"
        text = self.console_log.read_text("utf-8", errors="replace").splitlines()[-lines:]
        return "\n".join(text)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/health/ready", timeout=2.0) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _wait_ready(self, deadline: float) -> None:
        while not self._ready():
            if self._proc is None or self._proc.poll() is not None:
                raise InfrastructureError(
                    f"the registry exited during start-up.\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"the registry did not answer on {self.base} in time.\n{self.log_tail()}"
                )
            time.sleep(0.1)
