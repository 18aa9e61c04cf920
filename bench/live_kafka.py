"""The live benchmark's dealings with its Kafka: clean topics, the producer, the worker's
metrics and a process's CPU.

Every phase must start from nothing: a consumer that finds the previous phase's records
in broker.accepted.v1 would do the work twice, and a worker that finds a previous
worker's outputs measures nothing honest. Kafka is started once (the phases must share
it), so between phases `fresh_topics` deletes every topic but Kafka's own (`__*`),
waits until the controller has forgotten them, and creates the broker's declared topics
again; each phase also uses its own consumer group (app id) and state directory.

The producer sends records encoded once beforehand, with sends not awaited one by one
(their delivery futures are gathered at the end) and batches given 50 ms to fill (the
events spread over 11 topics of 12 partitions each: with aiokafka's 5 ms and 16 KiB,
5,000 events took 1.6 s to send, with these 0.26 s), so that putting them on Kafka
costs every phase the same fraction of a second and the ceiling is not the producer's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import urllib.request
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families

from bench.live_events import Wire
from broker.kafka.admin import admin_client, create_topics
from broker.topics import all_topics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fresh_topics(bootstrap: str, partitions: int, timeout: float = 60.0) -> None:
    """Delete every non-internal topic, wait until they are gone, declare the broker's."""
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        old = [t for t in await admin.list_topics() if not t.startswith("__")]
        if old:
            await admin.delete_topics(old)
        deadline = time.monotonic() + timeout
        while set(old) & set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise RuntimeError("Kafka did not delete the previous phase's topics")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    while True:  # a just-deleted name can be refused for a moment: try again
        try:
            await create_topics(bootstrap, all_topics(), partitions, 1)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    await _wait_leaders(bootstrap, deadline)


async def _wait_leaders(bootstrap: str, deadline: float) -> None:
    """Until the node serves every partition of the new topics as leader.

    The controller's metadata names a leader before the node has loaded the partition;
    sends in between fail over with NotLeaderForPartition and the phase pays for the
    cluster's catching up. A ListOffsets request is answered only by the leader, so one
    for every partition that succeeds means the topics are ready.
    """
    names = [t.name for t in all_topics()]
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await consumer.start()
    try:
        while True:
            try:
                await consumer.end_offsets(tps)
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


async def blast(bootstrap: str, wires: list[Wire]) -> float:
    """Send every record as fast as the producer can; the seconds until all are acked."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=50,
        max_batch_size=65536,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        sent = [await producer.send(w.topic, w.value, key=w.key) for w in wires]
        await asyncio.gather(*sent)
        return time.perf_counter() - started
    finally:
        await producer.stop()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
"""Prometheus samples by (name, sorted labels)."""


def scrape(port: int) -> Samples:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(metrics: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, lbl), v in metrics.items() if n == name and wanted <= set(lbl))


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def process_figures(pid: int) -> tuple[float, float]:
    """CPU seconds and peak resident MiB of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return cpu, peak
