"""The lean faust sensor keeps exactly the metrics faust's own Prometheus sensor keeps.

Both sensors are driven through the same hooks, in the same order, each over a registry
of its own; their expositions must be the same text (bar the clock-dependent latency
histograms' sums: they read the clock). A rebalance removes the per-partition series in
faust's sensor; the lean one must export them again when the partition comes back,
not keep writing to a series that is no longer exported.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP
from prometheus_client import CollectorRegistry, generate_latest

from broker.kafka.sensor import LeanPrometheusMonitor, lean_prometheus_sensor


class Task:
    """The stream's owner (weakly referenced by faust's sensor)."""


class Stream:
    """What the sensors read of a faust stream (weakly referenced, as faust does)."""

    shortlabel = "Stream: Topic: broker.linked.v1"

    def __init__(self) -> None:
        self.task_owner = Task()


def monitors() -> tuple[PrometheusMonitor, CollectorRegistry, LeanPrometheusMonitor, Any]:
    faust_registry, lean_registry = CollectorRegistry(), CollectorRegistry()
    theirs = PrometheusMonitor(metrics=FaustMetrics.create(faust_registry, "faust"))
    ours = LeanPrometheusMonitor(metrics=FaustMetrics.create(lean_registry, "faust"))
    return theirs, faust_registry, ours, lean_registry


def drive(monitor: PrometheusMonitor, stream: Any, table: Any, rounds: int) -> None:
    """What a worker's stages make faust call, a few messages on a few partitions."""
    for n in range(rounds):
        for partition in (0, 3):
            tp = TP("broker.linked.v1", partition)
            message = SimpleNamespace(time_in=None)
            monitor.on_message_in(tp, 10 * n + partition, message)  # type: ignore[arg-type]
            state = monitor.on_stream_event_in(tp, 10 * n, stream, None)  # type: ignore[arg-type]
            monitor.on_table_get(table, "child-1")
            monitor.on_table_set(table, "child-1", b"{}")
            monitor.on_table_del(table, "child-2")
            monitor.on_send_initiated(None, "child-pictures-changelog", None, 1, 2)  # type: ignore[arg-type]
            monitor.track_tp_end_offset(tp, 100 + n)
            monitor.on_stream_event_out(tp, 10 * n, stream, None, state)  # type: ignore[arg-type]
            monitor.on_message_out(tp, 10 * n, message)  # type: ignore[arg-type]


def comparable(registry: CollectorRegistry) -> list[str]:
    """The exposition, less what reads the clock (latencies, runtimes' sums, creation)."""
    return [
        line
        for line in generate_latest(registry).decode().splitlines()
        if not any(word in line for word in ("latency", "_ms_sum", "_created"))
    ]


def test_the_lean_sensor_exports_what_fausts_exports() -> None:
    theirs, faust_registry, ours, lean_registry = monitors()
    stream = Stream()
    table = SimpleNamespace(name="child-pictures")
    for monitor in (theirs, ours):
        drive(monitor, stream, table, rounds=3)
    assert comparable(lean_registry) == comparable(faust_registry)
    assert 'faust_topic_partition_end_offset{partition="3",topic="broker.linked.v1"} 102.0' in (
        comparable(lean_registry)
    )


def test_series_removed_at_a_rebalance_are_exported_again_when_written() -> None:
    theirs, faust_registry, ours, lean_registry = monitors()
    stream = Stream()
    table = SimpleNamespace(name="child-pictures")
    for monitor in (theirs, ours):
        drive(monitor, stream, table, rounds=2)
        monitor._clear_partition_related_metrics()  # what faust does at each rebalance
    assert comparable(lean_registry) == comparable(faust_registry)
    assert not [line for line in comparable(lean_registry) if "end_offset{" in line]
    for monitor in (theirs, ours):
        drive(monitor, stream, table, rounds=1)
    assert comparable(lean_registry) == comparable(faust_registry)
    assert 'faust_topic_partition_end_offset{partition="0",topic="broker.linked.v1"} 100.0' in (
        comparable(lean_registry)
    )


def test_the_swap_keeps_fausts_metrics_and_page() -> None:
    from faust.sensors.prometheus import setup_prometheus_sensors

    app = faust.App("sensor-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    registry = CollectorRegistry()
    setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="faust")
    metrics = app.monitor._metrics  # type: ignore[attr-defined]
    lean_prometheus_sensor(app)
    assert isinstance(app.monitor, LeanPrometheusMonitor)
    assert app.monitor._metrics is metrics  # the same series, in the same registry
