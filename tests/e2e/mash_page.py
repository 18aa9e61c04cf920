"""Running `mash-broker web` as a process, and talking to Kafka beside a browser.

Playwright's sync API owns the test's thread, so Kafka is reached from a worker thread
with its own event loop (`off_thread`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from broker.kafka.admin import create_topics
from broker.settings import PROJECT_ROOT
from broker.topics import TopicSpec
from tests.integration.conftest import free_ports
from tests.integration.worker import CODEC, off_thread, read_topic

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS: Final = PROJECT_ROOT / "docs" / "screenshots"
DEMO_LOGINS: Final = {"sam": "demo-practitioner", "priya": "demo-manager", "ines": "demo-auditor"}


def wait_for_ok(url: str, timeout: float, alive: Callable[[], bool]) -> bool:
    """Whether `url` answered 200 within `timeout` seconds (False once `alive` is not)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def web_env(bootstrap: str, app_id: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env.update(
        MASH_KAFKA_BOOTSTRAP=bootstrap,
        MASH_APP_ID=app_id,
        MASH_TOPIC_PARTITIONS="1",
        MASH_WEB_PORT=str(free_ports(1)[0]),
        MASH_WEB_SESSION_SECRET="e2e-" + "s" * 40,
        MASH_WEB_STREAM_SECONDS="30",
    )
    return env


class MashPage:
    """`mash-broker web` in a process of its own, as an operator runs it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.url = f"http://127.0.0.1:{env['MASH_WEB_PORT']}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "broker.cli", "web"],
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = self.proc
        if not wait_for_ok(f"{self.url}/health/ready", timeout, alive=lambda: proc.poll() is None):
            raise AssertionError(f"mash-broker web not ready in {timeout}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def produce(bootstrap: str, records: list[tuple[str, bytes, bytes | None]]) -> None:
    """Send (topic, key, value) records and wait for Kafka to have them all."""

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for topic, key, value in records:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    off_thread(send)


def encoded(topic: str, key: str, model: BaseModel) -> tuple[str, bytes, bytes]:
    return topic, key.encode(), CODEC.encode(model, topic=topic)


def picture_record(
    changelog: str, child_id: str, picture: BaseModel | None
) -> tuple[str, bytes, bytes | None]:
    """A record of the worker's child-pictures changelog, as faust writes it."""
    value = picture.model_dump_json().encode() if picture is not None else None
    return changelog, json.dumps(child_id).encode(), value


def ensure_topic(bootstrap: str, name: str, *, compacted: bool = False) -> None:
    off_thread(lambda: create_topics(bootstrap, [TopicSpec(name, compacted=compacted)], 1, 1))


def records_of(
    bootstrap: str, topic: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
) -> list[dict[str, Any]]:
    return off_thread(lambda: read_topic(bootstrap, topic, until, timeout))


def log_in(page: Any, url: str, username: str, password: str | None = None) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password or DEMO_LOGINS[username])
    page.get_by_role("button", name="Log in").click()


def reload_until(page: Any, url: str, ready: Callable[[], bool], timeout: float = 30) -> None:
    """Open `url` again until `ready()` holds: the page's views fill from Kafka a moment
    after the test has published what they show."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if ready() or time.monotonic() > deadline:
            return
        time.sleep(0.5)
