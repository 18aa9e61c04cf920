"""Phase `linkloop`: the link stage as a batched aiokafka loop (bench/live_linkloop.py).

For each mode (Kafka transactions; at-least-once with an idempotent producer), on
fresh topics: broker.accepted.v1 (one partition, as broker/topics.py declares it) is
filled with the council's events as the ingest stage writes them (Avro, encoded by the
project's codec for that topic, keyed by event id; encoded once, before any timing),
then the loop is started in its own process and drains it. The phase's time runs from
the loop's first batch to its last commit (the loop's own clock), so it measures the
loop at a backlog's full batches, not the producer; the CPU is the loop process's
(`time.process_time`), which other work on the machine does not inflate the way it
stretches wall time. Then, in another fresh process, the same events without Kafka
(`--offline`): `link_step` alone and the whole transform per batch.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from bench.link_batch import STATE_TOPIC
from bench.live_ceiling import module_process, report
from bench.live_events import Wire
from bench.live_kafka import blast, fresh_topics
from broker.kafka.admin import create_topics
from broker.topics import ACCEPTED, TopicSpec

MODES = ("transactions", "idempotent")


def accepted_wires(events: list[Any], codec: Any) -> list[Wire]:
    """The events as ingest publishes them on broker.accepted.v1 (keyed by event id)."""
    return [
        Wire(e.event_id, ACCEPTED.name, e.event_id.encode(), codec.encode(e, topic=ACCEPTED.name))
        for e in events
    ]


def _loop(args: list[str], log_path: Path, keys: tuple[str, ...], timeout: float) -> list[Any]:
    """Run `python -m bench.live_linkloop ARGS`; its reports with `keys`, in order."""
    with module_process(["bench.live_linkloop", *args], log_path) as stdout:
        return [report(stdout, key, timeout) for key in keys]


def run_linkloop(
    bootstrap: str,
    accepted: list[Wire],
    root: Path,
    partitions: int,
    timeout: float,
    *,
    batch: int = 500,
    events: int = 5000,
    seed: int = 0,
) -> dict[str, Any]:
    """Both modes over the same accepted records, and the offline figures."""
    results: dict[str, Any] = {"events": len(accepted), "batch": batch}
    for mode in MODES:
        asyncio.run(fresh_topics(bootstrap, partitions))
        state = TopicSpec(STATE_TOPIC, compacted=True, partitions=1)
        asyncio.run(create_topics(bootstrap, [state], 1, 1))
        asyncio.run(blast(bootstrap, accepted))
        group = f"bench-link-{uuid.uuid4().hex[:6]}"
        args = ["--bootstrap", bootstrap, "--expect", str(len(accepted)), "--group", group]
        args += ["--mode", mode, "--batch", str(batch), "--timeout", str(timeout)]
        _, done = _loop(args, root / f"linkloop-{mode}.log", ("ready", "done"), timeout)
        if done["records"] < len(accepted):
            raise RuntimeError(f"linkloop {mode}: only {done['records']} of {len(accepted)}")
        seconds = done["done"] - done["first"]
        results[mode] = {
            "seconds": seconds,
            "events_per_second": len(accepted) / seconds,
            "cpu_seconds": done["cpu"],
            "cpu_ms_per_event": 1000 * done["cpu"] / len(accepted),
            "batches": done["batches"],
            "outputs": done["outputs"],
            "state_records": done["state_records"],
            "seconds_in": done["seconds_in"],
        }
    offline_args = ["--offline", "--events", str(events), "--seed", str(seed)]
    offline_args += ["--batch", str(batch)]
    [found] = _loop(offline_args, root / "linkloop-offline.log", ("offline",), timeout)
    offline = found["offline"]
    results["offline"] = {
        "events": offline["events"],
        "link_step_cpu_ms_per_event": 1000 * offline["link_step_cpu_per_event"],
        "decode_cpu_ms_per_event": 1000 * offline["decode_cpu_per_event"],
        "validating_decode_cpu_ms_per_event": 1000 * offline["validating_decode_cpu_per_event"],
        "encode_cpu_ms_per_event": 1000 * offline["encode_cpu_per_event"],
        "transform_cpu_ms_per_event": 1000 * offline["transform_cpu_per_event"],
    }
    return results
