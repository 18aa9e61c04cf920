"""`mash-broker replay`: the pipeline over a file, on the replay clock, without Kafka.

The broker's clock is the events' `recorded_at`; records are printed as they would be
published, one `{"topic", "key", "value"}` JSON object a line. A line that is not JSON
is a rejection, never a crash.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from broker.chronology import chronology, find_child, render_text
from broker.clock import ManualClock
from broker.engine import Engine, replay_engine, replay_lines
from broker.picture import ChildPicture
from broker.pipeline.records import OutRecord
from broker.topics import all_topics

INTERNAL_TOPICS = frozenset(t.name for t in all_topics() if t.internal)


def _lines(path: Path) -> Iterator[bytes]:
    if str(path) == "-":
        yield from sys.stdin.buffer
        return
    with path.open("rb") as handle:
        yield from handle


def replay_records(
    path: Path, until: datetime | None, *, internal: bool = False
) -> Iterator[OutRecord]:
    clock = ManualClock()
    for record in replay_lines(_lines(path), clock, until=until):
        if internal or record.topic not in INTERNAL_TOPICS:
            yield record


def print_chronology(
    args: Any, *, out: TextIO, pictures: dict[str, ChildPicture] | None = None
) -> int:
    """`mash-broker chronology`: one child's chronology, from the pictures given (the
    live tables) or from a replay of the file."""
    engine = Engine(ManualClock())
    if pictures is None:
        for _ in replay_engine(engine, _lines(args.file), args.until):
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


def run_replay(path: Path, until: datetime | None, *, internal: bool, out: TextIO) -> int:
    for record in replay_records(path, until, internal=internal):
        out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    return 0
