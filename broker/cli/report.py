"""`mash-broker report timeliness`: how quickly the front door acted, from the running
broker's topics (`--live`) or a replay of a file (the same pipeline the worker runs), as
a table or CSV (broker/oversight/)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from broker.calendar.clock import ManualClock
from broker.cli.args import instant
from broker.cli.replay import event_lines
from broker.config.partnership import load_config
from broker.models import Alert, AuditDisclosure
from broker.oversight.timeliness import MEASURE_BY_KEY, TimelinessReport, timeliness
from broker.pipeline.engine import Engine, replay_engine
from broker.settings import Settings
from broker.topics import ALERTS, AUDIT_DISCLOSURE

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    report = sub.add_parser("report", help="reports for managers and inspectors")
    kinds = report.add_subparsers(dest="kind", required=True)
    timely = kinds.add_parser(
        "timeliness", help="per month and agency: decisions, meetings, files, notices in time"
    )
    source = timely.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "file", type=Path, nargs="?", help="replay these events (JSON lines; '-': stdin)"
    )
    source.add_argument(
        "--live",
        action="store_true",
        help="read the running broker's topics (alerts, disclosure audit, child pictures)",
    )
    timely.add_argument("--from", dest="start", type=instant, required=True, help="from (ISO)")
    timely.add_argument("--to", dest="end", type=instant, required=True, help="to (excluded)")
    timely.add_argument(
        "--until",
        type=instant,
        help="as at (replay: its clock at the end, default --to; --live: now)",
    )
    timely.add_argument("--csv", action="store_true", help="CSV, one row a month/agency/measure")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.live:
        report = asyncio.run(live_report(settings, args.start, args.end, args.until))
    else:
        report = replay_report(args.file, args.start, args.end, args.until)
    if args.csv:
        sys.stdout.write(report.to_csv())
    else:
        write_table(report, sys.stdout)
    return 0


def replay_report(
    path: Path, start: datetime, end: datetime, until: datetime | None = None
) -> TimelinessReport:
    """Replay the file to `until` (else `end`) and report on what started in [start, end)."""
    as_of = until or end
    engine = Engine(ManualClock())
    alerts: list[Alert] = []
    disclosures: list[AuditDisclosure] = []
    for record in replay_engine(engine, _recorded_by(event_lines(path), as_of), as_of):
        if isinstance(record.value, Alert):
            alerts.append(record.value)
        elif isinstance(record.value, AuditDisclosure):
            disclosures.append(record.value)
    pictures = engine.state.pictures.values()
    return timeliness(
        pictures, alerts, disclosures, engine.config, start=start, end=end, as_of=as_of
    )


async def live_report(
    settings: Settings, start: datetime, end: datetime, as_of: datetime | None = None
) -> TimelinessReport:
    """The report from the running broker: its alerts and disclosure audit as the topics
    hold them now, and its child-pictures table (as the MASH page computes it)."""
    from broker.kafka.pictures import live_pictures
    from broker.kafka.records import read_to_end

    records = await read_to_end(settings, [ALERTS.name, AUDIT_DISCLOSURE.name])
    pictures = await live_pictures(settings)
    return timeliness(
        pictures.values(),
        [r for r in records if isinstance(r, Alert)],
        [r for r in records if isinstance(r, AuditDisclosure)],
        load_config(),
        start=start,
        end=end,
        as_of=as_of or datetime.now(UTC),
    )


def _recorded_by(lines: Iterable[bytes], as_of: datetime) -> Iterator[bytes]:
    """The lines recorded at or before `as_of` (the report as it stood then); a line
    whose time cannot be read goes through, to be refused by the pipeline as usual."""
    for line in lines:
        try:
            recorded = datetime.fromisoformat(json.loads(line)["recorded_at"])
        except (ValueError, KeyError, TypeError):
            yield line
            continue
        if recorded.tzinfo is None or recorded <= as_of:
            yield line


def write_table(report: TimelinessReport, out: TextIO) -> None:
    out.write(f"Timeliness from {report.start.isoformat()} to {report.end.isoformat()}\n")
    header = (
        f"{'month':8} {'agency':18} {'total':>5} {'in time':>7} {'late':>5} {'pend.':>5} {'%':>6}"
    )
    current = ""
    for row in report.rows:
        title = MEASURE_BY_KEY[row.measure].title
        if title != current:
            out.write(f"\n{title}\n{header}\n")
            current = title
        percent = "" if row.percent_in_time is None else f"{row.percent_in_time:.1f}"
        out.write(
            f"{row.month:8} {row.agency:18} {row.total:>5} {row.in_time:>7} "
            f"{row.late:>5} {row.pending:>5} {percent:>6}\n"
        )
