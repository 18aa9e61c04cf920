"""The running faust worker, as the metrics and health checks need to see it.

`broker.ops.metrics` and `broker.ops.health` know nothing of faust: they read a small protocol
(`WorkerState`, `WorkerProgress`). This adapter answers it from the faust app: the
partition assignor (what is assigned), the table manager's recovery (restored yet?) and
the consumer (how far behind). Every read is synchronous and cheap, because it runs in
a scrape or a health probe on the worker's own event loop; none may raise (a partition
being revoked mid-read is normal during a rebalance), so failures read as "unknown".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from broker.ops.metrics import Metrics

log = logging.getLogger(__name__)


class FaustState:
    """Reads of a faust app's live state (see the module docstring)."""

    def __init__(
        self,
        app: Any,
        *,
        handled: Callable[[str, int], int | None] = lambda topic, partition: None,
        others: Callable[[], Mapping[tuple[str, int], int]] = dict,
        held: Callable[[], int] = lambda: 0,
    ) -> None:
        self._app = app
        self._assigned_once = False
        self._handled = handled
        self._others = others
        self._held = held

    def on_assigned(self) -> None:
        self._assigned_once = True

    def assigned_partitions(self) -> int | None:
        """Actively assigned partitions (sources and table changelogs), and those the
        stages run beside faust hold in their own groups (`held`); None before faust's
        first assignment of this worker's life.

        With every stage a loop, faust's own group holds only its leader topic and the
        link tables' changelogs: of two workers, one had no faust partition at all and
        never became ready, though its loops held inbound and child partitions
        (`bench.chaos --child-stage loop`)."""
        if not self._assigned_once:
            return None
        try:
            actives = len(self._app.assignor.assigned_actives())
        except Exception:  # the assignor is rebuilt on a rebalance
            return None
        try:
            return actives + self._held()
        except Exception:  # a loop between owners: its part unknown
            return actives

    def rebalancing(self) -> bool:
        return bool(getattr(self._app, "rebalancing", False))

    def in_recovery(self) -> bool:
        return bool(getattr(self._app, "in_recovery", False))

    def recovery_complete(self) -> bool:
        """Recovered at least once, and not recovering again now (after a rebalance)."""
        try:
            completed = self._app.tables.recovery.completed.is_set()
        except Exception:  # the table manager is not started yet
            return False
        return bool(completed) and not self.in_recovery()

    def crashed(self) -> bool:
        return bool(getattr(self._app, "crashed", False))

    def lag(self) -> Mapping[tuple[str, int], int]:
        """highwater - committed offset, per assigned partition of the agents' sources
        (not the tables' changelogs nor faust's own leader topic), and the lags of the
        stages run beside faust (`others`: the link loop's of broker.accepted.v1).

        The committed offset is the consumer's own record of what it committed (faust
        keeps it in `_committed_offset`; there is no public synchronous accessor), so the
        lag counts messages read but not yet committed too: that is what a restart would
        process again. A partition never committed counts from 0. Partitions whose
        highwater is not known yet (no fetch since assignment) are left out: `unfetched`
        counts them.
        """
        consumer, assigned = self._sources()
        committed: Mapping[Any, int | None] = getattr(consumer, "_committed_offset", {})
        lags: dict[tuple[str, int], int] = {}
        for tp in assigned:
            highwater = _highwater(consumer, tp)
            if highwater is None:
                continue
            done = max(committed.get(tp) or 0, self._stage_handled(tp.topic, tp.partition))
            lags[(tp.topic, tp.partition)] = max(0, highwater - int(done))
        try:
            lags.update(self._others())
        except Exception:  # a stage outside faust between owners: unknown, left out
            log.debug("a stage's lag not read")
        return lags

    def _stage_handled(self, topic: str, partition: int) -> int:
        """The next offset a stage keeps as handled in its own table, 0 if none.

        faust commits the offset after the last message it handed a stream; the marker
        a Kafka transaction leaves after its last record (the link loop's, on
        broker.linked.v1) is never handed, so a partition whose last offset is a marker
        would read one behind for ever. The child stage keeps the next offset it
        expects, past such a marker (broker.pipeline.offsets), with every batch."""
        try:
            return self._handled(topic, partition) or 0
        except Exception:  # the table's partition revoked mid-read
            return 0

    def unfetched(self) -> int:
        """Assigned partitions of the agents' sources with no fetch since their assignment
        (no highwater known). A fetch answers within milliseconds, so one that stays
        unfetched for minutes is a partition this worker holds and does not read, which
        `lag` cannot show (docs/notes/faust-kafka.md, "a restarted worker dropped what it
        fetched of a partition never committed")."""
        consumer, assigned = self._sources()
        return sum(1 for tp in assigned if _highwater(consumer, tp) is None)

    def _sources(self) -> tuple[Any, list[Any]]:
        """The consumer, and the partitions of the agents' sources actively assigned."""
        app = self._app
        try:
            consumer = app.consumer
            sources = source_topics(app)
            assigned = [tp for tp in app.assignor.assigned_actives() if tp.topic in sources]
        except Exception:  # not started yet, or rebuilt by a rebalance
            return None, []
        return consumer, assigned


def source_topics(app: Any) -> set[str]:
    """The topics the app's agents read (not the tables' changelogs nor faust's own)."""
    return {topic for agent in app.agents.values() for topic in agent.channel.topics}


def _highwater(consumer: Any, tp: Any) -> int | None:
    try:
        value = consumer.highwater(tp)
    except Exception:  # revoked since, or the consumer thread is restarting
        return None
    return None if value is None else int(value)


def connect(app: Any, state: FaustState, metrics: Metrics) -> None:
    """Count rebalances (faust's `on_partitions_assigned` signal) and note assignment."""

    async def on_partitions_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        state.on_assigned()
        metrics.rebalances.inc()
        log.info("partitions assigned", extra={"count": len(assigned)})

    app.on_partitions_assigned.connect(on_partitions_assigned)
