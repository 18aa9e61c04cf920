"""Replay benchmark: events per second and peak memory of the broker over a council's year.

    python -m bench.replay [--shape council|dense] [--sizes 40000,1000000] [--events N]
                           [--seed S] [--years Y] [--profile] [--json]

For each size it replays a synthetic stream (bench/council.py) through the very code
`mash-broker replay` runs: `broker.pipeline.engine.replay_engine` (what `replay_lines` calls) on
a `ManualClock`, every public record encoded to JSON as the command prints it (and then
thrown away); at the end the clock moves a fortnight past the last event, so the
deadlines still running fire as they would in a live broker. It prints the events, the
records published by topic, wall and CPU seconds, events per second, the peak resident
memory, and what the broker holds at the end (children, pictures, timers, held events).

Why a fresh process per size: `ru_maxrss` is a high-water mark, so one process per run
is the only way to get a peak that belongs to that run. Why the generator runs in a
process of its own, piping lines in: its children and pending follow-ups would
otherwise be counted as the broker's memory, and on two cores it runs beside the
broker instead of taking turns with it. CPU seconds are the replay process's own.

The default sizes are the issue's: a synthetic year of one council (40,000 events over
about 10,000 children) and 1,000,000 events (a council five times the size over five
years, so that history pruning and the identity index are exercised at scale).

`--shape dense` replays bench/dense.py's stream instead (issue 12's independent year:
every child seen about ten times, a third police notices, a quarter health updates),
where long-lived pictures and many alerts are what the broker spends its time on:
`python -m bench.replay --shape dense --sizes 200000`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from broker.calendar.clock import ManualClock
from broker.ops.collector import tune_collector
from broker.pipeline.engine import Engine, replay_engine
from broker.topics import INTERNAL_TOPICS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (40_000, 1_000_000)
SHAPES = {"council": "bench.council", "dense": "bench.dense"}
"""--shape -> the generator module that writes that load."""
EVENTS_PER_YEAR = 200_000
"""Above one council's year, a stream this many events a year: 1M is five years."""
SETTLE = timedelta(days=14)
PROGRESS = 50_000


@dataclass
class Result:
    """One replay's figures (also the JSON a size's subprocess prints)."""

    events: int
    seconds: float
    cpu_seconds: float
    records: int
    json_bytes: int
    by_topic: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    state: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    years: float = 1.0
    gc_seconds: float = 0.0
    gc_full: int = 0
    """Seconds in Python's cyclic garbage collector, and its full (oldest generation) runs."""
    first: str = ""
    last: str = ""
    shape: str = "council"

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class GcTimer:
    """A `gc.callbacks` entry adding up the time the cyclic collector runs.

    With a large, long-lived state (an identity index and tens of thousands of pictures)
    every full collection walks all of it, so the collector's share grows with the
    state; the benchmark reports it so that a slowdown at scale can be told apart from
    the broker's own work."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full += info["generation"] == 2


def topic_group(topic: str) -> str:
    """agency.<a>.notification.v1 -> notifications: the per-agency topics, counted together."""
    if topic.startswith("agency.") and topic.endswith(".notification.v1"):
        return "notifications"
    if topic.startswith("agency.") and topic.endswith(".feedback.v1"):
        return "feedback"
    return topic


def run(lines: Iterable[bytes], progress: int = 0) -> Result:
    """Replay `lines` as `mash-broker replay` does, in this process; figures for it.

    With `progress`, a line on stderr every `progress` events (rate since the last
    line, time in the GC, memory), to see whether a long run slows down as it goes."""
    clock = ManualClock()
    engine = Engine(clock)
    topics: Counter[str] = Counter()
    alerts: Counter[str] = Counter()
    events = out_bytes = 0
    first = ""

    gc_time = GcTimer()
    started, cpu = time.perf_counter(), time.process_time()

    def counted() -> Iterable[bytes]:
        """Count the lines; the clocks start at the first (not at the generator's start)."""
        nonlocal events, started, cpu
        for line in lines:
            if not events:
                started, cpu = time.perf_counter(), time.process_time()
            events += 1
            if progress and not events % progress:
                _progress(events, gc_time)
            yield line

    gc.callbacks.append(gc_time)
    try:
        for record in replay_engine(engine, counted()):
            _count(record, topics, alerts)
            if record.topic not in INTERNAL_TOPICS:
                out_bytes += len(json.dumps(record.to_json(), ensure_ascii=False))
            first = first or clock.now().isoformat()
        end = clock.now() + SETTLE
        clock.advance_to(end)
        for record in engine.fire_timers(before=end, inclusive=True):
            _count(record, topics, alerts)
            out_bytes += len(json.dumps(record.to_json(), ensure_ascii=False))
    finally:
        gc.callbacks.remove(gc_time)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    pictures = engine.state.pictures
    state = {
        "children_indexed": len(engine.state.index),
        "pictures": len(pictures),
        "chronology_entries": sum(len(p.events) for p in pictures.values()),
        "timers_running": sum(len(p.timers) for p in pictures.values()),
        "events_held_for_review": len(engine.state.held),
        "event_ids_seen": len(engine.state.seen),
    }
    return Result(
        events=events,
        seconds=seconds,
        cpu_seconds=cpu,
        records=sum(topics.values()),
        json_bytes=out_bytes,
        by_topic=dict(sorted(topics.items())),
        alerts=dict(alerts.most_common()),
        state=state,
        first=first,
        last=(end - SETTLE).isoformat(),
        gc_seconds=gc_time.seconds,
        gc_full=gc_time.full,
    )


def _progress(events: int, gc_time: GcTimer) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    print(
        f"  {events:>9,} events  {cpu:8.1f} CPU s  GC {gc_time.seconds:6.1f} s  {rss:6,.0f} MiB",
        file=sys.stderr,
        flush=True,
    )


def _count(record: Any, topics: Counter[str], alerts: Counter[str]) -> None:
    topics[topic_group(record.topic)] += 1
    if record.topic == "mash.alert.v1":
        alerts[str(record.value.rule_id)] += 1


def years_for(events: int) -> float:
    return max(1.0, events / EVENTS_PER_YEAR)


def run_one(
    events: int, seed: int, years: float, profile: bool = False, shape: str = "council"
) -> Result:
    """One size in this process, its lines piped from a generator process (the
    collector tuned as `mash-broker` tunes it)."""
    tune_collector(batch=True)
    command = [sys.executable, "-m", SHAPES[shape], "--events", str(events)]
    command += ["--seed", str(seed), "--years", str(years)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, bufsize=1 << 20, cwd=ROOT) as generator:
        assert generator.stdout is not None
        if profile:
            profiler = cProfile.Profile()
            result = profiler.runcall(run, generator.stdout, PROGRESS)
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(30)  # where the time is spent itself
        else:
            result = run(generator.stdout, PROGRESS)
    if generator.returncode:
        raise RuntimeError(f"the generator failed ({generator.returncode})")
    result.years = years
    result.shape = shape
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB
    return result


def measure(
    events: int, seed: int, years: float | None, profile: bool = False, shape: str = "council"
) -> Result:
    """One size in a fresh process, so that its peak memory is its own."""
    command = [sys.executable, "-m", "bench.replay", "--one", str(events), "--seed", str(seed)]
    command += ["--years", str(years or years_for(events)), "--shape", shape]
    command += ["--profile"] if profile else []
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True, cwd=ROOT)
    data = json.loads(done.stdout)
    return Result(**data)


def table(results: list[Result]) -> str:
    """The figures side by side, one column per size."""
    rows: list[tuple[str, list[str]]] = [
        ("shape", [r.shape for r in results]),
        ("events", [f"{r.events:,}" for r in results]),
        ("span", [f"{r.first[:10]} .. {r.last[:10]} ({r.years:g} y)" for r in results]),
        ("wall seconds", [f"{r.seconds:,.1f}" for r in results]),
        ("replay CPU seconds", [f"{r.cpu_seconds:,.1f}" for r in results]),
        ("  of which in the GC", [f"{r.gc_seconds:,.1f} ({r.gc_full} full)" for r in results]),
        ("events/s (wall)", [f"{r.events_per_second:,.0f}" for r in results]),
        ("events/CPU s", [f"{r.events / r.cpu_seconds:,.0f}" for r in results]),
        ("peak RSS (MiB)", [f"{r.peak_rss_mb:,.0f}" for r in results]),
        ("records out", [f"{r.records:,}" for r in results]),
        ("JSON out (MB)", [f"{r.json_bytes / 1e6:,.1f}" for r in results]),
    ]
    for name in sorted({t for r in results for t in r.by_topic}):
        rows.append((f"  {name}", [f"{r.by_topic.get(name, 0):,}" for r in results]))
    rows.append(("alerts by rule", ["" for _ in results]))
    for name in sorted({a for r in results for a in r.alerts}):
        rows.append((f"  {name}", [f"{r.alerts.get(name, 0):,}" for r in results]))
    rows.append(("state at the end", ["" for _ in results]))
    for name in sorted({s for r in results for s in r.state}):
        rows.append((f"  {name}", [f"{r.state.get(name, 0):,}" for r in results]))
    width = max(len(name) for name, _ in rows)
    cols = [max(len(v[i]) for _, v in rows) for i in range(len(results))]
    return "\n".join(
        f"{name:<{width}}  " + "  ".join(f"{v:>{c}}" for v, c in zip(values, cols, strict=True))
        for name, values in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="council", help="the load")
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--events", type=int, help="one size only (overrides --sizes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--years", type=float, help="span of each stream (default: by size)")
    parser.add_argument("--profile", action="store_true", help="cProfile each run (stderr)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size's subprocess
    args = parser.parse_args(argv)
    if args.one:
        years = args.years or years_for(args.one)
        result = run_one(args.one, args.seed, years, args.profile, args.shape)
        print(json.dumps(asdict(result)))
        return 0
    sizes = [args.events] if args.events else [int(s) for s in args.sizes.split(",")]
    results = []
    for size in sizes:
        print(f"replaying {size:,} events ...", file=sys.stderr, flush=True)
        results.append(measure(size, args.seed, args.years, args.profile, args.shape))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
