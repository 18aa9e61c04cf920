"""A progress bar for long replays: events done, events a second, time left.

A council's year takes a while to replay; a person at a terminal should see that it is
moving and when it will end. A pipe, a file or a CI log must not fill with redraws, so
the bar is drawn only when standard error is a terminal, and nothing is written
otherwise. Progress is measured in what the source knows the total of: bytes of a file
(its line count is unknown until read), records of Kafka's topics; events are counted
beside it for the rate.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

EVERY = 256
"""Inputs between two updates of the bar: drawing is not free, and the eye sees no
difference."""


class EventRate(ProgressColumn):
    """'12,345 events  2,710/s': counted inputs and their rate since the start."""

    def render(self, task: Task) -> Text:
        events = int(task.fields.get("events", 0))
        elapsed = task.elapsed or 0.0
        rate = f"{events / elapsed:,.0f}/s" if elapsed > 0.5 else "…/s"
        return Text(f"{events:,} events  {rate}", style="progress.data.speed")


class Bar:
    """The bar's handle: `advance` by units of the total, `count` events."""

    def __init__(self, progress: Progress | None, total: float | None) -> None:
        self._progress = progress
        self._task = progress.add_task("replaying", total=total) if progress else None
        self._events = 0
        self._units = 0.0

    def set_total(self, total: float) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def step(self, units: float = 1.0) -> None:
        """One event, `units` of the total (its bytes, or 1 record)."""
        self._events += 1
        self._units += units
        if self._events % EVERY == 0:
            self.flush()

    def flush(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self._units, events=self._events)


@contextmanager
def progress_bar(
    total: float | None = None, *, label: str = "replaying", stream: TextIO | None = None
) -> Iterator[Bar]:
    """A bar on `stream` (standard error) when it is a terminal; a silent handle if not."""
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        yield Bar(None, total)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        EventRate(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    console = Console(file=out)
    with Progress(*columns, console=console, transient=True) as progress:
        bar = Bar(progress, total)
        progress.update(progress.task_ids[0], description=label, events=0)
        try:
            yield bar
        finally:
            bar.flush()


def lines_with_progress(lines: Iterable[bytes], bar: Bar) -> Iterator[bytes]:
    """The lines, each counted on the bar by its bytes."""
    for line in lines:
        bar.step(len(line))
        yield line


def size_of(path: Path) -> int | None:
    """A file's size in bytes ('-', standard input, has none)."""
    if str(path) == "-":
        return None
    try:
        return path.stat().st_size
    except OSError:
        return None
