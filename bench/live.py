"""Live worker benchmark: events per second through one worker on the real Kafka.

    python -m bench.live [--events 5000] [--seed 0] [--partitions 12]

Replay (bench/replay.py) measures the broker's functions; this measures what an operator
plans capacity with: one `mash-broker worker` on a local Kafka 4.3.1 (its own, in a
temporary directory), fed the synthetic council's events (bench/council.py, the lines it
spoils on purpose left out) as fast as a producer can send them. It prints how long
sending took, how long until the worker had caught up (every event through ingest, link
and the child stage: each has a link outcome, and no consumer lag is left on any
partition), events per second end to end, the records the worker published, and the
worker's CPU seconds and peak memory.

The worker runs on the event clock (`MASH_CLOCK=event`), as the live-equals-replay tests
do, so the synthetic year's deadlines fire as its events pass rather than all at once.
Events are sent in recorded order but, as in life, the worker reads the agencies' topics
in no particular order between them: this measures throughput, not equivalence (that is
tests/integration/test_live_equals_replay.py). On this project's machine Kafka, the
worker and the producer share 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from bench.council import Council
from broker.codec import codec_from_settings
from broker.errors import InvalidInput
from broker.kafka.jars import ensure_jars
from broker.kafka.local import LocalKafka
from broker.kafka.publish import partition_key
from broker.models.events import Event, parse_event
from broker.settings import Settings
from broker.topics import topic_for_event_type


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def council_events(events: int, seed: int) -> list[Event]:
    found = []
    for line in Council(seed=seed, events=events).lines():
        try:
            found.append(parse_event(json.loads(line)))
        except (ValueError, InvalidInput):
            continue  # spoilt on purpose: ingest's business, measured elsewhere
    return found


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


async def send_all(bootstrap: str, events: list[Event], settings: Settings) -> None:
    codec = codec_from_settings(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        sent = []
        for event in events:
            topic = topic_for_event_type(event.event_type)
            assert topic is not None
            value = codec.encode(event, topic=topic)
            sent.append(await producer.send(topic, value, key=partition_key(event).encode()))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


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


def run(events: int, seed: int, partitions: int) -> dict[str, float]:
    settings = Settings()
    stream = council_events(events, seed)
    with tempfile.TemporaryDirectory(prefix="mash-bench-live-") as tmp:
        root = Path(tmp)
        jars = ensure_jars(settings.local_kafka_dir / "jars")
        with LocalKafka(root / "kafka", jars, free_port(), free_port()) as kafka:
            web = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_")}
            env |= {
                "MASH_KAFKA_BOOTSTRAP": kafka.bootstrap,
                "MASH_STATE_DIR": str(root / "state"),
                "MASH_APP_ID": f"bench-{uuid.uuid4().hex[:6]}",
                "MASH_TOPIC_PARTITIONS": str(partitions),
                "MASH_WORKER_WEB_PORT": str(web),
                "MASH_CLOCK": "event",
                "MASH_TICK_SECONDS": "1",
            }
            log = (root / "worker.log").open("wb")
            worker = subprocess.Popen(
                [sys.executable, "-m", "broker.cli", "worker"], env=env, stdout=log, stderr=log
            )
            try:
                deadline = time.monotonic() + 120
                while not ready(web):
                    if time.monotonic() > deadline or worker.poll() is not None:
                        raise RuntimeError(f"the worker did not become ready: {root}/worker.log")
                    time.sleep(0.5)
                cpu_before, _ = process_figures(worker.pid)
                started = time.perf_counter()
                asyncio.run(send_all(kafka.bootstrap, stream, settings))
                sent = time.perf_counter() - started
                previous = -1.0
                while True:
                    metrics = scrape(web)
                    linked = total(metrics, "mash_stage_outcomes_total", stage="link")
                    child = total(metrics, "mash_stage_outcomes_total", stage="child")
                    lag = total(metrics, "mash_consumer_lag")
                    if linked >= len(stream) and lag == 0 and child == previous:
                        break
                    previous = child if linked >= len(stream) and lag == 0 else -1.0
                    time.sleep(0.5)
                caught_up = time.perf_counter() - started
                cpu_after, peak = process_figures(worker.pid)
                published = total(metrics, "mash_events_out_total")
            finally:
                worker.terminate()
                worker.wait(60)
                log.close()
    return {
        "events": len(stream),
        "partitions": partitions,
        "send_seconds": sent,
        "caught_up_seconds": caught_up,
        "events_per_second": len(stream) / caught_up,
        "records_published": published,
        "worker_cpu_seconds": cpu_after - cpu_before,
        "worker_peak_rss_mib": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--partitions", type=int, default=12)
    args = parser.parse_args(argv)
    figures = run(args.events, args.seed, args.partitions)
    width = max(len(k) for k in figures)
    for name, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<{width}}  {shown:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
