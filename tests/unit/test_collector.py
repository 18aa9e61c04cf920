"""The broker's processes run with a young generation large enough that a replaced
picture dies young (broker/collector.py says why)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from broker.cli import main
from broker.ops.collector import YOUNG_GENERATION, tune_collector


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
