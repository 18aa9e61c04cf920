"""The broker's processes run with a young generation large enough that a replaced
picture dies young, and a batch run (replay) with larger ones still
(broker/ops/collector.py says why)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.cli import main
from broker.cli.main import BATCH_COMMANDS
from broker.ops.collector import BATCH_GENERATIONS, YOUNG_GENERATION, tune_collector


@pytest.fixture(autouse=True)
def restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_tuning_sets_only_the_young_generation() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector()
    assert gc.get_threshold() == (YOUNG_GENERATION, 10, 10)


def test_every_command_runs_tuned(capsys: pytest.CaptureFixture[str]) -> None:
    gc.set_threshold(700, 10, 10)
    assert main(["demo"]) == 0
    assert gc.get_threshold()[0] == YOUNG_GENERATION
    assert capsys.readouterr().out  # the demo events were printed


def test_a_batch_run_sets_the_young_and_middle_generations() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector(batch=True)
    assert gc.get_threshold() == (*BATCH_GENERATIONS, 10)


def test_replay_runs_tuned_for_throughput_and_the_worker_for_latency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gc.set_threshold(700, 10, 10)
    events = tmp_path / "events.jsonl"
    events.write_text("")
    assert main(["replay", str(events)]) == 0
    assert gc.get_threshold() == (*BATCH_GENERATIONS, 10)
    assert "replay" in BATCH_COMMANDS
    assert "worker" not in BATCH_COMMANDS
    assert "web" not in BATCH_COMMANDS
