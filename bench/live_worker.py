"""Phases (b) and (c): the full worker, one or two of them, in one consumer group.

Each worker is `python -m broker.cli worker` started from the project's root (this
worktree's packages), with its own web port (health and metrics) and state directory,
and the phase's one app id (a fresh consumer group and fresh changelogs). They run on
the event clock (`MASH_CLOCK=event`) as bench.live always has, so the synthetic year's
deadlines fire as its events pass rather than all at once. The event clock is a
worker's own: with two workers, only the one that owns broker.accepted.v1's single
partition (the link stage) sees the events' times, so the other fires no deadlines;
the records published are printed so that the difference shows. With --profile, the
first worker runs under cProfile and leaves its profile where asked (slower: for where
the time goes, not for the figures).

Timing: the phase waits until every worker is ready (partitions assigned, tables
recovered) and has stayed so for a few looks, so a rebalance as the second joins is not
timed. Then the events are sent, and the metrics are read every second, every quarter
second once every event is linked. The
worker has caught up when every event has a link outcome, no consumer lag is left and
the stage counts no longer move; the time taken is to the first look at which the
counts had their final values (`seconds`). Lag is measured on committed offsets, which
faust commits every few seconds, so `zero_lag_seconds` (when the end was seen) is later.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.live_ceiling import clean_env
from bench.live_events import Wire
from bench.live_kafka import (
    Samples,
    blast,
    free_port,
    fresh_topics,
    process_figures,
    ready,
    scrape,
    total,
)
from broker.settings import PROJECT_ROOT, Settings
from broker.topics import LINKED

LINK_STAGE: str = Settings.model_fields["link_stage"].default

POLL = (1.0, 0.25)
"""Seconds between looks at the metrics: slow while events are still being linked, fast
once all are (the child stage's end is what is timed). A scrape costs the worker ~30 ms
of its own CPU (prometheus_client renders every sample): looking four times a second
throughout took 4.5 s of a 60 s profiled run, so the slow looks keep the benchmark from
slowing what it measures."""


def worker_env(text: str) -> dict[str, str]:
    """`MASH_A=1 MASH_B=2` as a mapping: settings tried on the workers (MASH_ only)."""
    pairs = [item.partition("=") for item in text.split()]
    found = {k: v for k, _, v in pairs if k.startswith("MASH_")}
    if len(found) != len(pairs):
        raise ValueError(f"BENCH_WORKER_ENV takes MASH_NAME=value pairs: {text!r}")
    return found


def profiled(profile: Path | None, n: int) -> list[str]:
    """cProfile's arguments when profiling (the first worker only), else none."""
    return ["-m", "cProfile", "-o", str(profile)] if profile is not None and n == 0 else []


def lag_of(metrics: Samples, loop: bool) -> float:
    """The workers' consumer lag; with the link stage as a transactional loop
    (MASH_LINK_STAGE=loop), less broker.linked.v1's. That topic then holds each
    transaction's marker, an offset no consumer is handed, and faust's committed offsets
    of it trail far behind what the child stage has handled (they pass about one marker
    per commit: docs/notes/faust-kafka.md), so its lag says nothing of the work left.
    What the child stage has still to do shows in the stage counts, which must stay put
    (`settle`), and in its events' count, which must reach the link stage's."""
    found = 0.0
    for (name, labels), value in metrics.items():
        if name != "mash_consumer_lag":
            continue
        if loop and dict(labels).get("topic") == LINKED.name:
            continue
        found += value
    return found


def counted(scrapes: list[Samples], loop: bool) -> tuple[float, float, float, float, float]:
    """ingest, link and child outcomes, what is left to do and records out, summed over
    every worker's metrics.

    With the loop, what is left includes the events linked that the child stage has not
    yet handled: counted over all the workers together, since one worker links (the
    link loop holds broker.accepted.v1's one partition) and every worker handles its
    own children (a worker's own difference is no measure: with two, the linker is
    always "behind" by the other's children, and the phase never settled)."""
    ingest = link = child = lag = out = linked = events = 0.0
    for m in scrapes:
        ingest += total(m, "mash_stage_outcomes_total", stage="ingest")
        link += total(m, "mash_stage_outcomes_total", stage="link")
        child += total(m, "mash_stage_outcomes_total", stage="child")
        lag += lag_of(m, loop)
        out += total(m, "mash_events_out_total")
        linked += total(m, "mash_stage_outcomes_total", stage="link", outcome="linked")
        events += total(m, "mash_stage_outcomes_total", stage="child", outcome="event")
    behind = max(0.0, linked - events) if loop else 0.0
    return ingest, link, child, lag + behind, out


class Workers:
    """`count` workers of one app id, started at once, stopped at the end."""

    def __init__(
        self, count: int, bootstrap: str, root: Path, partitions: int, profile: Path | None = None
    ) -> None:
        self.root = root
        self.app_id = f"bench-{uuid.uuid4().hex[:6]}"
        self.ports = [free_port() for _ in range(count)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = []
        for n, port in enumerate(self.ports):
            env = clean_env() | {
                "MASH_KAFKA_BOOTSTRAP": bootstrap,
                "MASH_STATE_DIR": str(root / f"{self.app_id}-state-{n}"),
                "MASH_APP_ID": self.app_id,
                "MASH_TOPIC_PARTITIONS": str(partitions),
                "MASH_WORKER_WEB_PORT": str(port),
                "MASH_CLOCK": "event",
                "MASH_TICK_SECONDS": "1",
                # BENCH_BATCH_MAX=1: the worker message by message, as before issue 12
                **({"MASH_BATCH_MAX": b} if (b := os.environ.get("BENCH_BATCH_MAX")) else {}),
                **(
                    {"MASH_BATCH_WITHIN_SECONDS": w}
                    if (w := os.environ.get("BENCH_BATCH_WITHIN"))
                    else {}
                ),
                # BENCH_WORKER_ENV="MASH_A=1 MASH_B=2": any other setting, for a trial
                **worker_env(os.environ.get("BENCH_WORKER_ENV", "")),
            }
            self.loop = env.get("MASH_LINK_STAGE", LINK_STAGE) == "loop"
            log = (root / f"{self.app_id}-worker-{n}.log").open("wb")
            self.logs.append(log)
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, *profiled(profile, n), "-m", "broker.cli", "worker"],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )

    def wait_ready(self, timeout: float = 180.0, steady: int = 8) -> None:
        """Every worker ready at `steady` looks in a row (half a second apart)."""
        deadline = time.monotonic() + timeout
        streak = 0
        while streak < steady:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"the workers did not become ready: see {self.logs[0].name}")
            streak = streak + 1 if all(ready(port) for port in self.ports) else 0
            time.sleep(0.5)

    def counts(self) -> tuple[float, float, float, float, float]:
        """ingest, link and child outcomes, consumer lag and records out, over all."""
        return counted([scrape(port) for port in self.ports], self.loop)

    def settle(self, linked: int, since: float, timeout: float) -> tuple[float, float, float]:
        """Wait until `linked` link outcomes, no lag, and stage counts that stay put.

        Returns when the counts first had their final values, when that was seen with
        no lag, and the records published.
        """
        final_at, last = since, (-1.0, -1.0, -1.0)
        deadline = time.monotonic() + timeout
        while True:
            now = time.time()
            ingest, link, child, lag, out = self.counts()
            if (ingest, link, child) != last:
                final_at, last = now, (ingest, link, child)
            elif link >= linked and lag == 0:
                return final_at, now, out
            if time.monotonic() > deadline:
                self.dump_lag()
                raise TimeoutError(
                    f"the workers had not caught up in {timeout:.0f}s: {linked} events sent, "
                    f"outcomes ingest {ingest:.0f}, link {link:.0f}, child {child:.0f}, "
                    f"consumer lag {lag:.0f}"
                )
            time.sleep(POLL[link >= linked])

    def dump_lag(self) -> None:
        """Each worker's lag by partition and stage outcomes, beside its log: where a
        stalled run stopped."""
        for n, port in enumerate(self.ports):
            lines = sorted(
                f"{name} {dict(labels)} {value:.0f}"
                for (name, labels), value in scrape(port).items()
                if (name == "mash_consumer_lag" and value) or name == "mash_stage_outcomes_total"
            )
            path = self.root / f"{self.app_id}-worker-{n}.lag"
            path.write_text("\n".join(lines) + "\n")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/tasks", timeout=5) as r:
                    (self.root / f"{self.app_id}-worker-{n}.tasks.json").write_bytes(r.read())
            except OSError:
                pass

    def mean_batches(self) -> str:
        """Messages per batch, by stage (ingest/link/child), over every worker."""
        means = []
        for stage in ("ingest", "link", "child"):
            count = sum(total(scrape(p), "mash_batch_size_count", stage=stage) for p in self.ports)
            size = sum(total(scrape(p), "mash_batch_size_sum", stage=stage) for p in self.ports)
            means.append(f"{size / count:.1f}" if count else "-")
        return "/".join(means)

    def owned(self) -> list[int]:
        """How many partitions of the agents' topics each worker holds."""
        return [
            sum(1 for (n, _) in scrape(port) if n == "mash_consumer_lag") for port in self.ports
        ]

    def cpu(self) -> list[float]:
        return [process_figures(p.pid)[0] for p in self.procs]

    def peak_mib(self) -> list[float]:
        return [process_figures(p.pid)[1] for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for log in self.logs:
            log.close()


def run_workers(
    count: int,
    bootstrap: str,
    wires: list[Wire],
    root: Path,
    partitions: int,
    timeout: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    asyncio.run(fresh_topics(bootstrap, partitions))
    workers = Workers(count, bootstrap, root, partitions, profile)
    try:
        workers.wait_ready()
        cpu_before = workers.cpu()
        started = time.time()
        sent = asyncio.run(blast(bootstrap, wires))
        final_at, zero_lag_at, out = workers.settle(len(wires), started, timeout)
        owned = workers.owned()
        batches = workers.mean_batches()
        cpu = sum(after - before for after, before in zip(workers.cpu(), cpu_before, strict=True))
        peak = max(workers.peak_mib())
    finally:
        workers.stop()
    seconds = final_at - started
    return {
        "events": len(wires),
        "workers": count,
        "partitions_owned": "+".join(str(n) for n in owned),
        "send_seconds": sent,
        "seconds": seconds,
        "zero_lag_seconds": zero_lag_at - started,
        "events_per_second": len(wires) / seconds,
        "records_published": out,
        "mean_batch_ingest_link_child": batches,
        "cpu_seconds": cpu,
        "peak_rss_mib": peak,
    }
