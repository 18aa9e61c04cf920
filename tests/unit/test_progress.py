"""The progress bar of long replays: drawn on a terminal (events, events/s, time left),
nothing at all when standard error is a pipe or a file."""

from __future__ import annotations

import io
import json
from pathlib import Path

from broker.cli.progress import lines_with_progress, progress_bar
from broker.cli.replay import run_replay


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_events_their_rate_and_the_time_left() -> None:
    screen = Terminal()
    lines = [b"x" * 100] * 1000
    with progress_bar(sum(len(line) for line in lines), stream=screen) as bar:
        assert list(lines_with_progress(lines, bar)) == lines
    drawn = screen.getvalue()
    assert "1,000 events" in drawn
    assert "/s" in drawn
    assert "left" in drawn


def test_a_pipe_gets_nothing() -> None:
    pipe = io.StringIO()
    with progress_bar(1000, stream=pipe) as bar:
        for _ in range(1000):
            bar.step()
    assert pipe.getvalue() == ""


def test_replay_writes_only_records_when_not_on_a_terminal(tmp_path: Path, capsys) -> None:
    events = tmp_path / "none.jsonl"
    events.write_text("not json\n")
    out = io.StringIO()
    assert run_replay(events, None, internal=False, out=out) == 0
    assert [json.loads(line)["topic"] for line in out.getvalue().splitlines()] == [
        "broker.rejected.v1"
    ]
    assert capsys.readouterr().err == ""
