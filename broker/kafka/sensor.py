"""faust's Prometheus sensor, the same metrics for less of the worker's time.

faust calls its sensor several times for every message of every stage (received, taken
by a stream, each table read and write, each record sent), and its Prometheus sensor
(`faust.sensors.prometheus.PrometheusMonitor`) looks up the labelled series at every
call (`Counter.labels(...)`: label validation, string conversion and a lock), and
normalises the stream's name with a regular expression for every event. In a profile of
one worker under load (`python -m bench.live --phases worker1`, sampled by py-spy) these
calls were some 8 % of the event loop's busy time.

`LeanPrometheusMonitor` keeps every series faust's sensor keeps, with the same names,
labels and values (the dashboards and alerts in deploy/ read them), and looks each
labelled series up once: the children are kept in a dict by label values. faust removes
the per-partition series at each rebalance (`_clear_partition_related_metrics`), and the
kept children go with them, so a partition that comes back gets a series that is
exported again.
"""

from __future__ import annotations

import weakref
from typing import Any, cast

from faust.sensors.monitor import Monitor
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP, AppT, CollectionT, EventT, Message, PendingMessage, StreamT
from faust.types.transports import ProducerT


class LeanPrometheusMonitor(PrometheusMonitor):
    """PrometheusMonitor whose per-message hooks reuse the labelled series."""

    def __init__(self, metrics: FaustMetrics, **kwargs: Any) -> None:
        super().__init__(metrics, **kwargs)
        self._series: dict[tuple[int, tuple[Any, ...]], Any] = {}
        self._stream_series: weakref.WeakKeyDictionary[StreamT[Any], Any] = (
            weakref.WeakKeyDictionary()  # as faust's own lookup: a stream may be replaced
        )

    def _labelled(self, metric: Any, *values: Any) -> Any:
        """`metric.labels(*values)`, looked up once."""
        key = (id(metric), values)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = metric.labels(*values)
        return series

    def _clear_partition_related_metrics(self) -> None:
        super()._clear_partition_related_metrics()
        self._series.clear()  # faust removed them from their metrics: look up anew

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        Monitor.on_message_in(self, tp, offset, message)
        metrics = self._metrics
        metrics.messages_received.inc()
        metrics.active_messages.inc()
        self._labelled(metrics.messages_received_per_topics, tp.topic).inc()
        self._labelled(metrics.messages_received_per_topics_partition, tp.topic, tp.partition).set(
            offset
        )

    def on_stream_event_in(
        self, tp: TP, offset: int, stream: StreamT[Any], event: EventT[Any]
    ) -> dict[str, Any] | None:
        state = Monitor.on_stream_event_in(self, tp, offset, stream, event)
        metrics = self._metrics
        metrics.total_events.inc()
        metrics.total_active_events.inc()
        series = self._stream_series.get(stream)
        if series is None:
            label = f"stream.{self._stream_label(stream)}.events"
            series = self._stream_series[stream] = metrics.total_events_per_stream.labels(
                stream=label
            )
        series.inc()
        return cast("dict[str, Any] | None", state)

    def on_table_get(self, table: CollectionT, key: Any) -> None:
        Monitor.on_table_get(self, table, key)
        self._labelled(
            self._metrics.table_operations, f"table.{table.name}", self.KEYS_RETRIEVED
        ).inc()

    def on_table_set(self, table: CollectionT, key: Any, value: Any) -> None:
        Monitor.on_table_set(self, table, key, value)
        self._labelled(
            self._metrics.table_operations, f"table.{table.name}", self.KEYS_UPDATED
        ).inc()

    def on_table_del(self, table: CollectionT, key: Any) -> None:
        Monitor.on_table_del(self, table, key)
        self._labelled(
            self._metrics.table_operations, f"table.{table.name}", self.KEYS_DELETED
        ).inc()

    def on_send_initiated(
        self,
        producer: ProducerT,
        topic: str,
        message: PendingMessage,
        keysize: int,
        valsize: int,
    ) -> Any:
        self._labelled(self._metrics.topic_messages_sent, f"topic.{topic}").inc()
        return Monitor.on_send_initiated(self, producer, topic, message, keysize, valsize)

    def track_tp_end_offset(self, tp: TP, offset: int) -> None:
        Monitor.track_tp_end_offset(self, tp, offset)
        self._labelled(self._metrics.topic_partition_end_offset, tp.topic, tp.partition).set(offset)


def lean_prometheus_sensor(app: AppT) -> None:
    """Swap the sensor `faust.sensors.prometheus.setup_prometheus_sensors` installed (its
    metrics, in its registry, served at its page) for the lean one, over the same
    metrics. Before the app starts: faust adds its monitor to its sensors then."""
    current = app.monitor
    if not isinstance(current, PrometheusMonitor):
        raise TypeError("call setup_prometheus_sensors first")
    app.monitor = LeanPrometheusMonitor(metrics=current._metrics)
