"""`mash-broker replay`: the pipeline over a file, on the replay clock, without Kafka.

The broker's clock is the events' `recorded_at`; records are printed as they would be
published, one `{"topic", "key", "value"}` JSON object a line. A line that is not JSON
is a rejection, never a crash.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from broker.calendar.clock import ManualClock
from broker.cli.args import instant
from broker.cli.progress import Bar, lines_with_progress, progress_bar, size_of
from broker.config.partnership import PartnershipConfig, load_config
from broker.pipeline.engine import replay_lines
from broker.pipeline.jsonlines import json_lines
from broker.pipeline.records import OutRecord
from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers
from broker.topics import INTERNAL_TOPICS


def add_parser(sub: Subparsers) -> None:
    replay = sub.add_parser("replay", help="run the pipeline over a JSON-lines file, no Kafka")
    replay.add_argument("file", type=Path, help="events, one JSON object a line ('-': stdin)")
    replay.add_argument("--until", type=instant, help="fire every timer due at or before this")
    replay.add_argument(
        "--internal", action="store_true", help="also print the broker's internal topics"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.partnership_file)  # refused before anything runs
    return run_replay(args.file, args.until, internal=args.internal, out=sys.stdout, config=config)


def event_lines(path: Path) -> Iterator[bytes]:
    """The file's non-blank lines as bytes ('-': standard input), read safely
    (broker.pipeline.jsonlines: an over-long line never stops the rest)."""
    if str(path) == "-":
        yield from (line for _, line in json_lines(sys.stdin.buffer))
        return
    with path.open("rb") as handle:
        yield from (line for _, line in json_lines(handle))


def replay_records(
    path: Path,
    until: datetime | None,
    *,
    internal: bool = False,
    bar: Bar | None = None,
    config: PartnershipConfig | None = None,
) -> Iterator[OutRecord]:
    clock = ManualClock()
    lines = event_lines(path)
    if bar is not None:
        lines = lines_with_progress(lines, bar)
    for record in replay_lines(lines, clock, until=until, config=config):
        if internal or record.topic not in INTERNAL_TOPICS:
            yield record


def run_replay(
    path: Path,
    until: datetime | None,
    *,
    internal: bool,
    out: TextIO,
    config: PartnershipConfig | None = None,
) -> int:
    """The records as JSON lines on `out`; a progress bar on standard error when it is
    a terminal."""
    with progress_bar(size_of(path)) as bar:
        for record in replay_records(path, until, internal=internal, bar=bar, config=config):
            out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    return 0
