"""`mash-broker chronology`: one child's multi-agency chronology, from a replay of a
file or from the running worker's child-pictures table."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from broker.calendar.clock import ManualClock
from broker.cli.args import instant
from broker.cli.replay import event_lines
from broker.picture import ChildPicture
from broker.picture.chronology import chronology, find_child, render_text
from broker.pipeline.engine import Engine, replay_engine
from broker.settings import Settings

if TYPE_CHECKING:
    from broker.cli.args import Subparsers


def add_parser(sub: Subparsers) -> None:
    chrono = sub.add_parser(
        "chronology", help="a child's multi-agency chronology, from a file or the live worker"
    )
    source = chrono.add_mutually_exclusive_group(required=True)
    source.add_argument("file", type=Path, nargs="?", help="replay these events (JSON lines)")
    source.add_argument(
        "--live", action="store_true", help="read the running worker's child-pictures table"
    )
    chrono.add_argument("--until", type=instant)
    who = chrono.add_mutually_exclusive_group(required=True)
    who.add_argument("--child-id", help="the broker's child id (as in alerts)")
    who.add_argument("--socialcare-id")
    who.add_argument("--nhs-number")
    who.add_argument("--upn")
    who.add_argument("--police-person-id")
    chrono.add_argument("--json", action="store_true", help="one JSON object a row")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.live:
        return print_chronology(args, out=sys.stdout)
    from broker.kafka.pictures import live_pictures

    pictures = asyncio.run(live_pictures(settings))
    return print_chronology(args, out=sys.stdout, pictures=pictures)


def print_chronology(
    args: Any, *, out: TextIO, pictures: dict[str, ChildPicture] | None = None
) -> int:
    """One child's chronology, from the pictures given (the live tables) or from a
    replay of the file."""
    engine = Engine(ManualClock())
    if pictures is None:
        for _ in replay_engine(engine, event_lines(args.file), args.until):
            pass
        pictures = engine.state.pictures
    kinds = ("socialcare_id", "nhs_number", "upn", "police_person_id")
    identifier = next(((k, getattr(args, k)) for k in kinds if getattr(args, k)), None)
    picture = find_child(pictures, child_id=args.child_id, identifier=identifier)
    if picture is None:
        print(f"no child matches (of {len(pictures)} children read)", file=sys.stderr)
        return 1
    rows = chronology(picture, engine.config.calendar.tz)
    if args.json:
        for row in rows:
            out.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
    else:
        out.write(render_text(picture, rows, engine.config.calendar.tz) + "\n")
    return 0
