"""The live benchmark's arithmetic (bench/live_stats.py) and its choice of phases: the
figures a reader trusts are only as good as the percentile, the ratio and the schedule
of the paced producer behind them."""

from __future__ import annotations

import argparse

import pytest

from bench.live import PHASES, phases, rates
from bench.live_stats import late_by, percentile, ratio, send_offsets, shown, summary, table


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100, given out of order below
    shuffled = values[::2] + values[1::2]
    assert percentile(shuffled, 0) == 1.0
    assert percentile(shuffled, 100) == 100.0
    assert percentile(shuffled, 50) == pytest.approx(50.5)
    assert percentile(shuffled, 99) == pytest.approx(99.01)
    assert percentile([3.0], 95) == 3.0


def test_no_sample_has_no_percentile_and_a_wrong_q_is_refused() -> None:
    assert percentile([], 50) is None
    assert summary([]) == {"count": 0.0, "p50": None, "p95": None, "p99": None, "max": None}
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_summary_of_latencies() -> None:
    found = summary([0.1, 0.3, 0.2, 0.4])
    assert found["count"] == 4.0
    assert found["p50"] == pytest.approx(0.25)
    assert found["max"] == 0.4


def test_ratios_are_missing_rather_than_zero_or_infinite() -> None:
    assert ratio(100.0, 1000.0) == pytest.approx(0.1)
    assert ratio(None, 1000.0) is None
    assert ratio(100.0, None) is None
    assert ratio(100.0, 0.0) is None
    assert shown(None) == "n/a"
    assert shown(0.07012) == "0.070"
    assert shown(1234.5, 1) == "1,234.5"


def test_the_schedule_is_steady_and_does_not_drift() -> None:
    due = send_offsets(100.0, 30.0)
    assert len(due) == 3000
    assert due[0] == 0.0
    assert due[100] == pytest.approx(1.0)
    assert due[-1] == pytest.approx(29.99)
    with pytest.raises(ValueError, match="positive"):
        send_offsets(0.0, 30.0)


def test_lateness_is_the_worst_delay_behind_schedule_never_negative() -> None:
    due = [0.0, 0.01, 0.02, 0.03]
    assert late_by(due, [0.0, 0.011, 0.05, 0.031]) == pytest.approx(0.03)
    assert late_by(due, [0.0, 0.0, 0.0, 0.0]) == 0.0
    assert late_by([], []) == 0.0


def test_the_table_aligns_names_and_shows_numbers_readably() -> None:
    lines = table({"events": 4978, "events_per_second": 101.53, "owned": "7+7", "x": None})
    assert lines[0].startswith("events ")
    assert lines[0].endswith("4,978")
    assert lines[1].endswith("101.5")
    assert lines[2].endswith("7+7")
    assert lines[3].endswith("n/a")
    assert len({len(line) for line in lines}) == 1


def test_phases_are_chosen_by_name_and_run_in_their_own_order() -> None:
    assert phases("latency,raw") == ["raw", "latency"]
    assert phases(",".join(PHASES)) == list(PHASES)
    with pytest.raises(argparse.ArgumentTypeError):
        phases("raw,worker3")
    with pytest.raises(argparse.ArgumentTypeError):
        phases(",")


def test_latency_rates_are_a_comma_separated_list_of_positive_numbers() -> None:
    assert rates("100,25") == [100.0, 25.0]
    assert rates("50") == [50.0]
    for wrong in ("", "fast", "100,-1", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            rates(wrong)
