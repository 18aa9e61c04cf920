"""Running the real worker (`mash-broker worker`) as a process, and reading its topics.

A subprocess, not an in-process app: the tests then exercise exactly what an operator
runs, and can kill it (SIGTERM or SIGKILL) and start it again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer

from broker.codec import AvroCodec
from broker.settings import Settings

CODEC = AvroCodec(Settings().schemas_dir)
T = TypeVar("T")


def worker_env(bootstrap: str, state_dir: Path, app_id: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env.update(
        MASH_KAFKA_BOOTSTRAP=bootstrap,
        MASH_STATE_DIR=str(state_dir),
        MASH_APP_ID=app_id,
        MASH_TOPIC_PARTITIONS="1",
        MASH_WORKER_WEB_PORT="0",
    )
    return env


WORKER = ("broker.cli", "worker")
"""`mash-broker worker`, as an operator runs it."""

CRASHING_WORKER = ("tests.integration.crashing_worker",)
"""The same worker with a fault at a port, told where by its `CRASH_*` settings."""


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path, command: tuple[str, ...] = WORKER) -> None:
        self.env = env
        self.log = log
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *self.command],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def publish(
    bootstrap: str, path: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
    env["MASH_KAFKA_BOOTSTRAP"] = bootstrap
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "broker.cli", "publish", str(path), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def read_topic(
    bootstrap: str,
    topic: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 90,
    codec: AvroCodec = CODEC,
) -> list[dict[str, Any]]:
    """Every record of `topic` from the beginning, decoded, until `until(records)` holds."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for message in messages:
                    value = codec.decode(message.value or b"").model_dump(mode="json")
                    records.append(
                        {
                            "key": message.key,
                            "value": value,
                            "raw": message.value,
                            "partition": message.partition,
                            "offset": message.offset,
                        }
                    )
    finally:
        await consumer.stop()
    return records


def off_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a thread of its own (its own event loop): callable
    from a test that already runs a loop (playwright's sync API does)."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def wait_linked(bootstrap: str, event_ids: set[str], timeout: float = 120) -> None:
    """Wait until every one of `event_ids` is on broker.linked.v1.

    The inbound topics are read each at its own pace and over several partitions, so
    events published together may be handled in any order, and the rules rightly answer
    by the order they were handled in: a VIST read before the involvement that makes an
    agency involved raises no unshared-risk alert, and a health update handled after a
    later one is not in that one's trailing 365 days. A test that means an order
    publishes the earlier events, waits here, then publishes the rest."""

    def linked(records: list[dict[str, Any]]) -> bool:
        return event_ids <= {(r["value"].get("event") or {}).get("event_id") for r in records}

    records = off_thread(lambda: read_topic(bootstrap, "broker.linked.v1", linked, timeout))
    assert linked(records), f"not linked in {timeout} s: {sorted(event_ids)}"


def run(coro: Any) -> Any:
    return asyncio.run(coro)
