"""The operations figures: one function computes them, every view shows them.

The `/ops` page, `/ops.json` and `mash-broker status` all show what `figures` returns
(the page renders it, the JSON is it, the command line fetches the JSON and renders
it), so the three can never disagree. The figures are read from the metrics registry,
never from events: they are counts by topic, agency, reason field, rule and partition,
which is all the operations team needs and all it may see.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry

from broker.ops.health import Readiness

Samples = dict[str, list[tuple[dict[str, str], float]]]


def read_samples(registry: CollectorRegistry) -> Samples:
    """Every sample of the registry by name (`mash_events_in_total`, ...)."""
    samples: Samples = {}
    for family in registry.collect():
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


class RateWindow:
    """Per-minute rates of growing totals, over (about) the last `window` seconds.

    Kept by the worker between requests: each call adds a sample, and the rate is taken
    against the newest sample at least `window` old (or the oldest there is).
    """

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._window = window
        self._clock = clock
        self._samples: deque[tuple[float, dict[str, float]]] = deque()

    def observe(self, totals: Mapping[str, float]) -> dict[str, float | None]:
        now = self._clock()
        self._samples.append((now, dict(totals)))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window:
            self._samples.popleft()
        then, base = self._samples[0]
        elapsed = now - then
        if elapsed < 1.0:
            return dict.fromkeys(totals)  # not enough history for a rate yet
        return {k: max(0.0, (v - base.get(k, 0.0)) * 60.0 / elapsed) for k, v in totals.items()}


def _total(samples: Samples, name: str) -> float:
    return sum(value for _, value in samples.get(name, []))


def _by(samples: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for sample_labels, value in samples.get(name, []):
        key = tuple(sample_labels.get(label, "") for label in labels)
        out[key] = out.get(key, 0.0) + value
    return out


def _count(value: float) -> int:
    return round(value)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figures(
    registry: CollectorRegistry,
    readiness: Readiness | None,
    rates: RateWindow,
    now: datetime,
) -> dict[str, Any]:
    """Throughput, rejections, alerts, lag, recovery and readiness, as plain JSON data."""
    samples = read_samples(registry)
    events_in = {t: v for (t,), v in _by(samples, "mash_events_in_total", "topic").items()}
    events_out = {t: v for (t,), v in _by(samples, "mash_events_out_total", "topic").items()}
    totals = {f"in:{t}": v for t, v in events_in.items()}
    totals |= {f"out:{t}": v for t, v in events_out.items()}
    per_minute = rates.observe(totals)
    throughput = [
        {
            "topic": topic,
            "in": _count(events_in.get(topic, 0.0)),
            "out": _count(events_out.get(topic, 0.0)),
            "in_per_min": _rounded(per_minute.get(f"in:{topic}")),
            "out_per_min": _rounded(per_minute.get(f"out:{topic}")),
        }
        for topic in sorted(set(events_in) | set(events_out))
    ]
    agencies = _by(samples, "mash_events_in_total", "agency")
    reasons = _by(samples, "mash_rejection_reasons_total", "reason")
    alerts = _by(samples, "mash_alerts_total", "rule_id", "severity")
    lag = _by(samples, "mash_consumer_lag", "topic", "partition")
    latency_count = _total(samples, "mash_end_to_end_latency_seconds_count")
    latency_sum = _total(samples, "mash_end_to_end_latency_seconds_sum")
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "readiness": readiness.to_json() if readiness else None,
        "recovery": _recovery(samples),
        "assigned_partitions": _count(_total(samples, "mash_assigned_partitions")),
        "rebalances": _count(_total(samples, "mash_worker_rebalances_total")),
        "throughput": throughput,
        "events_in_by_agency": _rows(agencies, ("agency",)),
        "rejected": _count(_total(samples, "mash_events_rejected_total")),
        "rejections_by_reason": _rows(reasons, ("reason",)),
        "duplicates": _count(_total(samples, "mash_duplicates_total")),
        "alerts_by_rule": _rows(alerts, ("rule_id", "severity")),
        "deadlines": {
            "due_within_hour": _count(_total(samples, "mash_deadlines_due_within_hour")),
            "overdue": _count(_total(samples, "mash_deadlines_overdue")),
        },
        "lag": [
            {"topic": topic, "partition": int(partition), "lag": _count(value)}
            for (topic, partition), value in sorted(lag.items())
        ],
        "lag_total": _count(sum(lag.values())),
        "latency": {
            "published": _count(latency_count),
            "mean_s": round(latency_sum / latency_count, 3) if latency_count else None,
        },
    }


def _rows(counts: Mapping[tuple[str, ...], float], names: Iterable[str]) -> list[dict[str, Any]]:
    """Label tuples -> rows, largest count first, ties by name (a stable order)."""
    names = tuple(names)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [dict(zip(names, key, strict=True)) | {"count": _count(v)} for key, v in ordered]


def _recovery(samples: Samples) -> str:
    if _total(samples, "mash_table_recovery_in_progress"):
        return "in progress"
    if _total(samples, "mash_table_recovery_complete"):
        return "complete"
    return "not started"
