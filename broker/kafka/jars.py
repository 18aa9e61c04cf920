"""Kafka's jars, pinned: fetched once from Maven Central through deploy/local/pom.xml.

Why Maven: developers and CI have Java and Maven but no container engine, and Maven
Central is the registry this project may reach; the pom pins Kafka's version and every
transitive jar, so two machines run the same Kafka.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
from pathlib import Path
from typing import Final

from broker.errors import InfrastructureError
from broker.kafka.process import locked, tool
from broker.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

#: Keep in step with deploy/local/pom.xml; the reasons for this version are written there.
KAFKA_VERSION: Final = "4.3.1"
DEPLOY_LOCAL: Final = PROJECT_ROOT / "deploy" / "local"
POM: Final = DEPLOY_LOCAL / "pom.xml"
LOG4J_CONFIG: Final = DEPLOY_LOCAL / "log4j2.yaml"
JAR_MARKER: Final = ".kafka-version"


def ensure_jars(jar_dir: Path, pom: Path = POM) -> Path:
    """Leave Kafka's runtime classpath in `jar_dir` (Maven, once) and return `jar_dir`.

    A marker file records the Kafka version and a digest of the pom the jars came from;
    while it matches, nothing is fetched. When either changes, the old jars are removed
    first so that two Kafka versions never share a classpath. A file lock keeps two
    processes (two test sessions, `up` during a test run) from fetching at once.
    """
    jar_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    want = f"kafka {KAFKA_VERSION} pom {digest}\n"
    marker = jar_dir / JAR_MARKER
    with locked(jar_dir / ".lock"):
        if marker.exists() and marker.read_text("utf-8") == want:
            return jar_dir
        marker.unlink(missing_ok=True)
        for old in jar_dir.glob("*.jar"):
            old.unlink()
        log.info("fetching Kafka %s jars with Maven into %s", KAFKA_VERSION, jar_dir)
        done = maven(pom, "dependency:copy-dependencies", f"-DoutputDirectory={jar_dir}")
        if done.returncode != 0 or not any(jar_dir.glob("kafka_2.13-*.jar")):
            raise InfrastructureError(
                f"Maven could not fetch Kafka {KAFKA_VERSION} (exit {done.returncode}):\n"
                + (done.stdout + done.stderr)[-3000:]
            )
        marker.write_text(want, "utf-8")
    return jar_dir


def maven(pom: Path, *args: str, timeout: float = 900.0) -> subprocess.CompletedProcess[str]:
    """`mvn -B -q -f POM ARGS...`, its output kept for the error message of a failure."""
    cmd = [tool("mvn"), "-B", "-q", "-f", str(pom), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
