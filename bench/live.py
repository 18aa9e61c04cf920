"""Live benchmark: the worker against what Kafka and faust allow, on one real Kafka.

    python -m bench.live [--events 5000] [--seed 0] [--partitions 6]
                         [--phases raw,faust,worker1,worker2,latency,linkloop]
                         [--rate 100,25] [--latency-seconds 45] [--latency-children 1000]
                         [--latency-warmup 5]
                         [--json] [--profile F]

Replay (bench/replay.py) measures the broker's functions; this measures what an operator
plans capacity with, and how far that is from what the tools allow. In one run, on one
local Kafka 4.3.1 (its own, in a temporary directory, on 127.0.0.1) and with the same
events (the synthetic council's, bench/council.py, less the lines it spoils on purpose,
encoded once), it measures events per second through:

  raw      (a)  a bare aiokafka consume -> decode -> re-encode -> produce loop with the
                project's codec, batched and pipelined: the ceiling (bench/live_raw.py)
  faust    (a2) a bare faust agent doing the same: faust's own cost (bench/live_faust.py)
  worker1  (b)  the full worker, `python -m broker.cli worker` (bench/live_worker.py)
  worker2  (c)  two full workers in one consumer group, sharing the partitions

and prints the ratios (b)/(a) and (a2)/(a). Every phase starts on fresh topics with a
fresh consumer group and state, its consumer started and waited for before the events
are sent, and is timed from the first send to its last output. Then `latency`: one
worker fed RED VISTs at a steady rate for --latency-seconds, with the p50/p95/p99 time
from each event's publish to its alert and its notification being readable downstream
(bench/live_latency.py), once for each --rate: 100 a second as asked of the broker, and
25, below what one worker handles of these events on 2 shared cores, for the latency of
a worker that keeps up. The VISTs are about --latency-children children in turn: the
default 1,000 gives each child a few VISTs in the run, as a council's stream spreads its
events over its children; a few dozen (60 was this phase's old default) gives each of
them a VIST every half second, and measures how the child stage copes with pictures
that grow by the second (each event's picture is written whole). The first
--latency-warmup seconds of VISTs (5 unless told) warm the freshly started worker up and
are printed apart, not counted (bench/live_latency.py says why). Every wait is bounded;
the run stops by itself.

The worker covers three stages (ingest, link, child), each a decode, a step and an
encode, with state in tables, so it does several times the ceiling's work per event:
the ratios say what the broker costs, not that it is slow. On this project's machine
Kafka, the consumers and the producer share 2 cores with other work: figures are noisy.

Every topic gets --partitions partitions, the worker's own default (6) unless told; the
figures before 2026-12-05 were taken at 12. A worker pays for each partition it owns
(a fetch position on each, a transaction per child partition a batch touches): at 100
events/s one worker's p99 was 111-121 ms at 3, 128 at 6 and 182-228 at 12, and it
moved 1,276, 1,134 and 1,018 events/s (deploy/README.md, "Partitions").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.live_ceiling import run_ceiling
from bench.live_events import council_events, to_wire
from bench.live_kafka import free_port
from bench.live_latency import run_latency
from bench.live_link import MODES, accepted_wires, run_linkloop
from bench.live_stats import ratio, shown, table
from bench.live_worker import run_workers
from broker.codec import codec_from_settings
from broker.kafka.jars import ensure_jars
from broker.kafka.local import LocalKafka
from broker.settings import Settings

PHASES = ("raw", "faust", "worker1", "worker2", "latency", "linkloop")
DEFAULT_PHASES = PHASES[:5]


def phases(text: str) -> list[str]:
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PHASES))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"phases are among {','.join(PHASES)}: not {unknown}")
    return [p for p in PHASES if p in chosen]


def rates(text: str) -> list[float]:
    try:
        found = [float(r) for r in text.split(",") if r.strip()]
    except ValueError:
        found = []
    if not found or min(found) <= 0:
        raise argparse.ArgumentTypeError(f"rates are positive numbers, comma-separated: {text!r}")
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings()
    codec = codec_from_settings(settings)
    events = council_events(args.events, args.seed)
    wires = to_wire(events, codec)
    results: dict[str, Any] = {"events": len(wires), "partitions": args.partitions}
    with tempfile.TemporaryDirectory(prefix="mash-bench-live-") as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        jars = ensure_jars(settings.local_kafka_dir / "jars")
        with LocalKafka(root / "kafka", jars, free_port(), free_port()) as kafka:
            for phase in args.phases:
                found: Any
                print(f"-- {phase}", file=sys.stderr, flush=True)
                if phase in ("raw", "faust"):
                    found = run_ceiling(
                        phase, kafka.bootstrap, wires, root, args.partitions, args.timeout
                    )
                elif phase.startswith("worker"):
                    count = int(phase.removeprefix("worker"))
                    found = run_workers(
                        count,
                        kafka.bootstrap,
                        wires,
                        root,
                        args.partitions,
                        args.timeout,
                        args.profile.resolve() if args.profile else None,
                    )
                elif phase == "linkloop":
                    found = run_linkloop(
                        kafka.bootstrap,
                        accepted_wires(events, codec),
                        root,
                        args.partitions,
                        args.timeout,
                        batch=args.link_batch,
                        events=args.events,
                        seed=args.seed,
                    )
                else:
                    found = [
                        run_latency(
                            kafka.bootstrap,
                            root,
                            args.partitions,
                            r,
                            args.latency_seconds,
                            args.latency_children,
                            args.latency_warmup,
                        )
                        for r in args.rate
                    ]
                results[phase] = found
    rate = {p: results[p]["events_per_second"] for p in PHASES[:4] if p in results}
    results["ratios"] = {
        "worker1/raw": ratio(rate.get("worker1"), rate.get("raw")),
        "faust/raw": ratio(rate.get("faust"), rate.get("raw")),
        "worker1/faust": ratio(rate.get("worker1"), rate.get("faust")),
        "worker2/worker1": ratio(rate.get("worker2"), rate.get("worker1")),
    }
    return results


def printed(results: dict[str, Any]) -> list[str]:
    lines = [f"events {results['events']:,}, partitions {results['partitions']}"]
    names = {"raw": "(a) raw", "faust": "(a2) faust", "worker1": "(b) 1 worker"}
    names |= {"worker2": "(c) 2 workers"}
    for phase, name in names.items():
        if phase in results:
            lines += ["", f"{name}:", *("  " + line for line in table(results[phase]))]
    lines += ["", "events/s:"]
    lines += [
        f"  {names[p]:<14} {results[p]['events_per_second']:>10,.1f}" for p in names if p in results
    ]
    lines += ["", "ratios:", *(f"  {k:<16} {shown(v)}" for k, v in results["ratios"].items())]
    if "linkloop" in results:
        lines += ["", *linkloop_lines(results["linkloop"])]
    for found in results.get("latency", []):
        lines += [
            "",
            f"latency at {found['rate']:g} events/s for {found['seconds']:g} s "
            f"({found['sent']:,} RED VISTs about {found['children']:,} children, "
            f"{found['unmatched']} never read, "
            f"producer late by at most {found['producer_late_by_seconds'] * 1000:.0f} ms; "
            f"outputs came at {shown(found['handled_per_second'], 1)} events/s), ms:",
            f"  {'':<14} {'count':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}",
        ]
        for kind in ("first_output", "notification", "alert"):
            s = found[kind]
            lines.append(f"  {kind:<14} {s['count']:>7.0f} {percentiles(s)}")
        if (warm := found.get("warmup")) and warm["count"]:
            lines.append(
                f"  {'warm-up':<14} {warm['count']:>7.0f} {percentiles(warm)}"
                f"  (the first {warm['seconds']:g} s, not counted above)"
            )
        lines.append("  hop by hop (on the records' own timestamps):")
        for kind, s in found.get("hops", {}).items():
            lines.append(f"  {'  ' + kind:<14} {s['count']:>7.0f} {percentiles(s)}")
    return lines


def percentiles(s: dict[str, Any]) -> str:
    """p50, p95, p99 and max of a latency summary, in ms, each in a column of 8."""
    return " ".join(
        shown(s[q] * 1000 if s[q] is not None else None, 0).rjust(8)
        for q in ("p50", "p95", "p99", "max")
    )


def linkloop_lines(found: dict[str, Any]) -> list[str]:
    off = found["offline"]
    lines = [
        f"link stage off faust ({found['events']:,} events on broker.accepted.v1, "
        f"batches of up to {found['batch']}):",
        f"  {'':<14} {'events/s':>10} {'CPU ms/event':>13} {'batches':>8} "
        f"{'outputs':>8} {'state':>8}",
    ]
    for mode in MODES:
        m = found[mode]
        lines.append(
            f"  {mode:<14} {m['events_per_second']:>10,.1f} {m['cpu_ms_per_event']:>13.3f} "
            f"{m['batches']:>8,} {m['outputs']:>8,} {m['state_records']:>8,}"
        )
        spent = ", ".join(f"{k} {v:.2f}" for k, v in m["seconds_in"].items())
        lines.append(f"  {'':<14} wall seconds in: {spent}")
    lines += [
        f"  without Kafka ({off['events']:,} events, CPU ms/event): link_step alone "
        f"{off['link_step_cpu_ms_per_event']:.3f}, decode {off['decode_cpu_ms_per_event']:.3f} "
        f"(validating again: {off['validating_decode_cpu_ms_per_event']:.3f}), "
        f"encode {off['encode_cpu_ms_per_event']:.3f}, "
        f"the loop's whole transform {off['transform_cpu_ms_per_event']:.3f}"
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--partitions",
        type=int,
        default=Settings.model_fields["topic_partitions"].default,
        help="every topic's (default: the worker's own default, MASH_TOPIC_PARTITIONS)",
    )
    parser.add_argument("--phases", type=phases, default=list(DEFAULT_PHASES))
    parser.add_argument(
        "--link-batch", type=int, default=500, help="linkloop: records per batch at most"
    )
    parser.add_argument(
        "--rate",
        type=rates,
        default=[100.0, 25.0],
        help="latency: events a second, one run for each (comma-separated)",
    )
    parser.add_argument("--latency-seconds", type=float, default=45.0)
    parser.add_argument(
        "--latency-warmup",
        type=float,
        default=5.0,
        help="latency: seconds of VISTs sent first and not counted (their figures apart)",
    )
    parser.add_argument(
        "--latency-children", type=int, default=1000, help="latency: the children VISTs are about"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="per throughput phase")
    parser.add_argument(
        "--profile", type=Path, help="run the workers' first under cProfile, its stats here"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object, not a table")
    parser.add_argument(
        "--keep", type=Path, help="run in this directory and leave it: Kafka's and workers' logs"
    )
    args = parser.parse_args(argv)
    results = run(args)
    print(json.dumps(results, indent=2) if args.json else "\n".join(printed(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
