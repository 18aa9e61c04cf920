"""The identity index in memory, persisted child by child to the `identity` table.

Linking reads the whole index for every event, so the index lives in memory (a faust
table's store would be a dict lookup per candidate, and a rocksdb read at that); the
table is its changelog-backed copy. The index is built from the table when the link
stage first needs it after a start or a rebalance (`invalidate`), then the garbage
collector is told to leave its long-lived objects alone (`gc.freeze`, docs/identity.md).

After each step the children the step touched are written back, with everything a
change to them changes: the children a survivor absorbed (their alias now points at
it) and the children it is kept apart from. A child whose state is what the table
already holds is not written again: most records of a known child teach the index
nothing new, and each write is a changelog record sent to Kafka.

Each write carries the offset of the last accepted event the index had linked when it
was written (`offsets.SOURCE_OFFSET`), so that a table restored from its changelog
keeps a child's newest state even when a worker that lost the partition writes an
older one after its new owner (broker.kafka.newest_wins).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import MutableMapping
from typing import Any

from broker.identity import IdentityIndex
from broker.models.events import Event, IdentityDecision
from broker.pipeline import offsets
from broker.pipeline.steps import Step

log = logging.getLogger(__name__)


class IdentityStore:
    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table
        self._index: IdentityIndex | None = None

    @property
    def index(self) -> IdentityIndex:
        if self._index is None:
            index = IdentityIndex()
            for state in list(self.table.values()):
                index.from_state(state)
            gc.collect()
            gc.freeze()
            log.info("identity index loaded", extra={"count": len(index)})
            self._index = index
        return self._index

    def invalidate(self) -> None:
        """Forget the in-memory index (after a rebalance, or a failed step): the next
        link rebuilds it from the table, which another worker may have written."""
        self._index = None

    def persist(self, event: Event, step: Step, at: int | None = None) -> None:
        """Write back the children `step` changed, as the index has them now; `at` is
        the offset of the last message the index has linked (None outside Kafka)."""
        index = self.index
        touched = {linked.child_id for linked in step.linked}
        for survivor, other in step.merged:
            touched |= {survivor, other}
        if isinstance(event, IdentityDecision):
            touched |= {c for c in event.child_ids if c in index}
        states: dict[str, Any] = {}  # a survivor's state, made once (most steps touch one child)
        for child_id in list(touched):
            survivor = index.resolve(child_id)
            state = states[survivor] = states.get(survivor) or index.to_state(survivor)
            touched.add(survivor)
            for key in ("kept_apart", "absorbed"):
                value = state.get(key)
                if isinstance(value, list):
                    touched.update(str(v) for v in value)
        for child_id in sorted(touched):
            if child_id in index or index.resolve(child_id) != child_id:
                state = states.get(child_id) or index.to_state(child_id)
                held = offsets.unstamped(self.table.get(child_id))
                if held != state:  # most records of a known child
                    self.table[child_id] = offsets.stamped(state, at)  # a changelog record
