"""A faust table that restores, per key, the newest value in the stage's order, not the
last one Kafka appended.

Without Kafka's transactions nothing fences a worker that has lost its partitions and
does not know it yet: paused past its session timeout (a long GC, a stopped VM, a
starved host), then let go on, it finishes the batch it was in and writes its tables
after their new owner has taken over and gone further. Its changelog records come
after the owner's, so a plain restore (last record wins) takes the older state.
`bench.chaos` seed 2 lost a child's police person id so: the paused worker rewrote the
child's identity as its index had it, 1.4 s after the owner had written it with the id,
and the next restore of the `identity` table rebuilt an index without it (three alerts
lost, three changed: tests/agents/test_zombie_link.py).

A value that carries its source offset (`broker.pipeline.offsets.SOURCE_OFFSET`: the
offset of the last message its stage had handled when it wrote it) is therefore kept
only if it is not older than what the table already holds for that key, on disk, in
this worker's pending writes, or earlier in the same restore. A stale record is
skipped, and the persisted offset still moves past it (faust would otherwise read it
again at the next recovery, to skip it again). Values without a source offset (other
tables, tombstones, states written before the field existed) apply as they always did.

What this does not do: a compacted changelog keeps only a key's last record, so once
Kafka compacts a segment that holds the owner's newer record and a zombie's older one
after it, only the older survives; until then (segments are compacted only after they
roll) every restore, standby replicas included, keeps the newer. The owner's own store
already holds the newer value (it never reads its active changelog), and so does any
worker that restored before the compaction. Kafka transactions close this for good
(docs/identity.md, "the link stage as a transactional loop").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from faust.types import TP, EventT

from broker.kafka.changelog_first import ChangelogFirstTable
from broker.pipeline import offsets

log = logging.getLogger(__name__)


class NewestWinsTable(ChangelogFirstTable):
    """faust's table (changelog first), restoring the newest value of each key."""

    def apply_changelog_batch(self, batch: Iterable[EventT[Any]]) -> None:
        events = list(batch)
        newest: dict[tuple[int, Any], int | None] = {}
        kept: list[EventT[Any]] = []
        for event in events:
            partition = event.message.partition
            key = (partition, self._to_key(event.key))
            incoming = offsets.source_offset(event.value)
            if incoming is not None:  # only a stamped value is compared: no store read else
                held = newest[key] if key in newest else self._held(partition, key[1])
                if held is not None and incoming < held:
                    continue  # written late by a worker behind the stage's order
            newest[key] = incoming
            kept.append(event)
        super().apply_changelog_batch(kept)
        if len(kept) < len(events):
            self._persist_offsets_past(events, kept)

    def _held(self, partition: int, key: Any) -> int | None:
        return offsets.source_offset(self.local_value(partition, key))

    def _persist_offsets_past(self, events: list[EventT[Any]], kept: list[EventT[Any]]) -> None:
        """Move each partition's persisted offset past the records skipped at its end."""
        last: dict[TP, int] = {}
        for event in events:
            tp = event.message.tp
            last[tp] = max(last.get(tp, -1), event.message.offset)
        applied = {e.message.tp: e.message.offset for e in kept}  # each tp's in order
        for tp, offset in last.items():
            if applied.get(tp, -1) < offset:
                self.data.set_persisted_offset(tp, offset)
        skipped = len(events) - len(kept)
        log.warning(
            "changelog records older than the table's value skipped: written late by a "
            "worker that had lost the partition",
            extra={"topic": self.changelog_topic_name, "count": skipped},
        )
