"""`mash-broker report timeliness`: how quickly the front door acted, from a replay of a
file (the same pipeline the worker runs), as a table or CSV (broker/oversight/)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from broker.calendar.clock import ManualClock
from broker.cli.args import instant
from broker.cli.replay import event_lines
from broker.models import Alert, AuditDisclosure
from broker.oversight.timeliness import MEASURE_BY_KEY, TimelinessReport, timeliness
from broker.pipeline.engine import Engine, replay_engine
from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    report = sub.add_parser("report", help="reports for managers and inspectors")
    kinds = report.add_subparsers(dest="kind", required=True)
    timely = kinds.add_parser(
        "timeliness", help="per month and agency: decisions, meetings, files, notices in time"
    )
    timely.add_argument("file", type=Path, help="replay these events (JSON lines; '-': stdin)")
    timely.add_argument("--from", dest="start", type=instant, required=True, help="from (ISO)")
    timely.add_argument("--to", dest="end", type=instant, required=True, help="to (excluded)")
    timely.add_argument(
        "--until", type=instant, help="the replay's clock at the end (default: --to)"
    )
    timely.add_argument("--csv", action="store_true", help="CSV, one row a month/agency/measure")


def run(args: argparse.Namespace, settings: Settings) -> int:
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
