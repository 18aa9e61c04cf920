"""`mash-broker subject-access CHILD FILE`: one child's subject access record (JSON, and
a PDF with --pdf), from a replay of a file: everything held and disclosed about them,
third parties' personal data marked for the reviewer (broker/oversight/subject_access.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.calendar.clock import ManualClock
from broker.cli.args import instant
from broker.cli.replay import event_lines
from broker.models import Alert, AuditDisclosure
from broker.oversight.subject_access import subject_access
from broker.oversight.subject_access_pdf import subject_access_pdf
from broker.picture import ChildPicture
from broker.pipeline.engine import Engine, replay_engine
from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    sar = sub.add_parser(
        "subject-access", help="a child's subject access record (JSON; PDF with --pdf)"
    )
    sar.add_argument("child", help="the broker's child id, or an NHS number, UPN, social care id")
    sar.add_argument("file", type=Path, help="replay these events (JSON lines; '-': stdin)")
    sar.add_argument("--until", type=instant, help="fire every timer due by then")
    sar.add_argument("--pdf", type=Path, help="write the PDF here")
    sar.add_argument("--json", type=Path, help="write the JSON here (default: standard output)")
    sar.add_argument("--requested-by", default="the command line", help="who asked (recorded)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    record = replay_record(args.child, args.file, args.until, args.requested_by)
    if record is None:
        print("no child matches", file=sys.stderr)
        return 1
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.pdf:
        args.pdf.write_bytes(subject_access_pdf(record))
    return 0


def replay_record(
    child: str, path: Path, until: datetime | None, requested_by: str
) -> dict[str, Any] | None:
    engine = Engine(ManualClock())
    alerts: list[Alert] = []
    disclosures: list[AuditDisclosure] = []
    for out in replay_engine(engine, event_lines(path), until):
        if isinstance(out.value, Alert):
            alerts.append(out.value)
        elif isinstance(out.value, AuditDisclosure):
            disclosures.append(out.value)
    picture = find_by_any_id(engine.state.pictures, child)
    if picture is None:
        return None
    return subject_access(
        picture.child_id,
        picture,
        alerts,
        disclosures,
        [],
        generated_at=datetime.now(UTC),
        requested_by=requested_by,
    )


def find_by_any_id(pictures: dict[str, ChildPicture], given: str) -> ChildPicture | None:
    """The child whose broker id, or any identifier, is `given`."""
    if given in pictures:
        return pictures[given]
    for picture in pictures.values():
        known = set(picture.identity.identifiers.values()) if picture.identity else set()
        if picture.socialcare is not None:
            known.add(picture.socialcare.socialcare_id)
        if given in known:
            return picture
    return None
