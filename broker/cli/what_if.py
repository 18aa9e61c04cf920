"""`mash-broker what-if`: the same history under another configuration, side by side.

    mash-broker what-if --config new.toml [--baseline current.toml] EVENTS_OR_TOPICS

When a partnership considers a change (a lower cumulative count, another Encompass
age, a deadline), or a serious case review asks whether a new rule would have flagged
a child earlier, the history is replayed under both configurations and the difference
reported. It is replay's engine, once per configuration (broker/pipeline/whatif.py):
no rule is written twice.

Both configurations are read and validated before anything else runs (a typo is
refused with its file, line and reason, exit 2). `--config` may be a TOML file of
changes, layered over the baseline, or a whole JSON partnership file; `--baseline` the
same over the shipped defaults. Without `--baseline`, the baseline is what the worker
runs: MASH_PARTNERSHIP_FILE, or the shipped configuration.

EVENTS_OR_TOPICS is a JSON-lines file (as `replay` reads; '-' for standard input), or
`kafka` for the inbound topics of the cluster in MASH_KAFKA_BOOTSTRAP read from the
start (`kafka:police.vist.v1,mash.decision.v1` for some of them), without writing
anything (broker/kafka/history.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console

from broker.cli.args import instant
from broker.cli.progress import lines_with_progress, progress_bar, size_of
from broker.cli.replay import event_lines
from broker.cli.what_if_report import Report, changed_settings, render_terminal
from broker.config.partnership import PartnershipConfig, config_from, partnership_source
from broker.config.sources import Source
from broker.errors import ConfigurationError
from broker.pipeline.difference import compare
from broker.pipeline.ingest import IngestResult
from broker.pipeline.whatif import InStep
from broker.settings import Settings
from broker.topics import INBOUND_TOPICS

if TYPE_CHECKING:
    from broker.cli.args import Subparsers

KAFKA = "kafka"


def add_parser(sub: Subparsers) -> None:
    what_if = sub.add_parser(
        "what-if",
        help="replay history under another configuration and report the difference",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what_if.add_argument(
        "source",
        metavar="EVENTS_OR_TOPICS",
        help="a JSON-lines file ('-': stdin), or 'kafka[:TOPIC,...]' for the inbound topics",
    )
    what_if.add_argument(
        "--config", type=Path, required=True, help="the configuration to try (.toml or .json)"
    )
    what_if.add_argument(
        "--baseline",
        type=Path,
        help="what it is compared with (default: MASH_PARTNERSHIP_FILE, else the shipped one)",
    )
    what_if.add_argument("--until", type=instant, help="fire every timer due at or before this")
    what_if.add_argument("--json", action="store_true", help="print the report as JSON")
    what_if.add_argument("--html", type=Path, help="also write the report, with its chart, here")


def run(args: argparse.Namespace, settings: Settings) -> int:
    return what_if(args, settings, out=sys.stdout)


def what_if(args: argparse.Namespace, settings: Settings, *, out: TextIO) -> int:
    """Validate both configurations, replay the history under each, report."""
    current = args.baseline or settings.partnership_file
    (base_source, baseline), (new_source, new) = load_pair(args.config, current)
    topics = kafka_topics(args.source)
    started = time.perf_counter()
    if topics is None:
        path = Path(args.source)
        if str(path) != "-" and not path.is_file():
            raise ConfigurationError(f"{path}: no such events file")
        origin = str(path)
        runs = InStep({"baseline": baseline, "new": new})
        with progress_bar(size_of(path), label="replaying") as bar:
            runs.submit_lines(lines_with_progress(event_lines(path), bar))
    else:
        history = read_topics(settings, topics)
        runs = InStep({"baseline": baseline, "new": new})
        with progress_bar(len(history), label="replaying") as bar:
            for result in history:
                bar.step()
                runs.submit(result)
        origin = f"Kafka {settings.kafka_bootstrap} ({len(topics)} inbound topics)"
    outcomes = runs.finish(args.until)
    report = Report(
        baseline=base_source.origin,
        new=new_source.origin,
        source=origin,
        events=runs.inputs,
        seconds=time.perf_counter() - started,
        settings_changed=changed_settings(base_source, new_source),
        comparison=compare(outcomes["baseline"], outcomes["new"]),
    )
    if args.html is not None:
        from broker.cli.what_if_html import render_html

        args.html.write_text(render_html(report), encoding="utf-8")
    if args.json:
        out.write(json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n")
    else:
        render_terminal(report, Console(file=out, width=_width(out)))
    return 0


def load_pair(
    config: Path, baseline: Path | None
) -> tuple[tuple[Source, PartnershipConfig], tuple[Source, PartnershipConfig]]:
    """(source, configuration) of the baseline, then of the configuration to try over
    it: each validated, or a `ConfigurationError` with its file, line and reason."""
    base_source = partnership_source(baseline)
    base = config_from(base_source)
    new_source = partnership_source(config, base=base_source)
    return (base_source, base), (new_source, config_from(new_source))


def kafka_topics(source: str) -> tuple[str, ...] | None:
    """The topics EVENTS_OR_TOPICS names, or None for a file."""
    if source != KAFKA and not source.startswith(f"{KAFKA}:"):
        return None
    named = tuple(t for t in source.removeprefix(KAFKA).lstrip(":").split(",") if t)
    unknown = [t for t in named if t not in INBOUND_TOPICS]
    if unknown:
        raise ConfigurationError(f"not an inbound topic: {', '.join(unknown)}")
    return named or INBOUND_TOPICS


def read_topics(settings: Settings, topics: tuple[str, ...]) -> list[IngestResult]:
    """The topics' history in the replay clock's order (Kafka is imported only here)."""
    from broker.kafka.history import read_history

    with progress_bar(label="reading Kafka") as bar:
        return asyncio.run(
            read_history(settings, topics, on_start=bar.set_total, on_record=bar.step)
        )


def _width(out: TextIO) -> int | None:
    """The terminal's width, or a wide page when written to a file or a pipe."""
    return None if out.isatty() else 160
