"""The live benchmark's arithmetic, kept pure so that it is tested (tests/unit).

- `percentile`: linear interpolation between closest ranks (numpy's default), so p99
  of 3,000 latencies is a value between two measured ones rather than whichever sample
  a rounding rule picks; an empty sample has no percentile (None), never a zero.
- `ratio` and `shown`: a throughput as a share of the ceiling, with "n/a" when either
  phase was not run, so a subset of phases still prints a sensible table.
- `send_offsets` and `late_by`: the paced producer's schedule. The n-th event is due at
  n / rate seconds after the start, whatever happened before: a producer that sleeps a
  fixed 1/rate after each send drifts below the rate by its own sending time, and one
  that falls behind must not then burst to catch up unnoticed; `late_by` says how far
  behind it ran, so a latency figure taken while the producer itself lagged is visible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0 <= q <= 100) of `values`, or None when there are none."""
    if not 0 <= q <= 100:
        raise ValueError("a percentile is between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float | None]:
    """count, p50, p95, p99 and max of a sample (latencies in seconds)."""
    return {
        "count": float(len(values)),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole, or None when either is missing or the whole is not positive."""
    if part is None or whole is None or whole <= 0:
        return None
    return part / whole


def shown(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def send_offsets(rate: float, seconds: float) -> list[float]:
    """When each event of a steady `rate` per second over `seconds` is due, from 0."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("a paced run needs a positive rate and duration")
    return [n / rate for n in range(round(rate * seconds))]


def late_by(due: Sequence[float], sent: Sequence[float]) -> float:
    """How far behind its schedule the producer ran at worst (seconds, never negative)."""
    return max([0.0, *(s - d for d, s in zip(due, sent, strict=True))])


def table(rows: Mapping[str, object]) -> list[str]:
    """Aligned `name  value` lines; floats with one decimal, None as n/a."""
    width = max((len(k) for k in rows), default=0)
    lines = []
    for name, value in rows.items():
        if value is None:
            text = "n/a"
        elif isinstance(value, float):
            text = f"{value:,.1f}"
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = str(value)
        lines.append(f"{name:<{width}}  {text:>12}")
    return lines
