"""A faust table whose local store is never ahead of its changelog.

faust's `Table.__setitem__` sends the changelog record (buffered, acknowledged later)
and writes the value to the local store (RocksDB, on the worker's disk) at once. A
worker killed between the two keeps, on disk, writes Kafka never got. Restarted, it
trusts its disk: the link stage found the redelivered event in its own `seen-events`
and did nothing, and when that partition later moved to the other worker (restored
from the changelog) the write was simply gone: a child's identity missing from the
index, the next records weighed against another index (bench.chaos seed 2,
docs/notes/faust-kafka.md).

Here a write is first a *pending* value in memory, read back by the worker that made
it (every read, `in`, iteration and `len` see it), and goes to the local store only
once Kafka has acknowledged its changelog record, in acknowledgement order, before
faust moves the store's persisted offset past it. So whatever the store holds, the
changelog holds too; after a kill the store is at most behind, and faust's recovery
reads the changelog from the persisted offset onwards, as it always does. Nothing is
discarded and no restore is longer than before. Pending values of a partition taken
away at a rebalance are dropped: their new owner restores from the changelog.

The persisted offset moves to a record of this worker's only when that record follows
on from it. faust moves it to every acknowledged record, which takes for granted that
the worker is the partition's only writer, and so that the records before are its own.
A worker that has lost its partitions without knowing it yet (paused past its session
timeout) is not: its late write lands after the new owner's, and faust's persisted
offset then jumped past every record the owner had written meanwhile, unread.
`bench.chaos` seed 2 left the paused worker's `identity` store so, 2 children missing
and 12 stale (the new owner's changelog offsets 637-678, its own write at 679, its
standby reading on from 680): had the link partition come back to it, its index would
have lacked them. When another writer's records lie between, the offset stays, and the next
recovery reads them, this worker's own records with them (broker.kafka.newest_wins
keeps the newest of each key).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import faust
from faust.types import TP, FutureMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Pending:
    seq: int
    partition: int | None
    value: Any
    deleted: bool


class ChangelogFirstTable(faust.Table[Any, Any]):
    """faust's table, with the local store written only after the changelog."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._pending: dict[Any, _Pending] = {}
        self._seq = itertools.count()

    # -- writes: staged, sent, stored on acknowledgement ------------------------------

    def __setitem__(self, key: Any, value: Any) -> None:
        self.on_key_set(key, value)  # sends the changelog record: send_changelog below

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            raise KeyError(key)
        self.on_key_del(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def send_changelog(
        self,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> FutureMessage:
        pending = _Pending(next(self._seq), partition, value, deleted=value is None)
        self._pending[key] = pending
        return self.changelog_topic.send_soon(
            key=key,
            value=value,
            partition=partition,
            key_serializer=key_serializer or self.key_serializer,
            value_serializer=value_serializer or self.value_serializer,
            callback=lambda fut: self._on_acknowledged(key, pending, fut),
            eager_partitioning=True,
        )

    def _on_acknowledged(self, key: Any, pending: _Pending, fut: FutureMessage) -> None:
        """Kafka has the record: now the disk may have it, then the persisted offset."""
        metadata = fut.result()  # a failed send raises here, as in faust's own callback
        self._store_locally(metadata.topic_partition.partition, key, pending)
        if self._pending.get(key) is pending:
            del self._pending[key]
        tp, offset = metadata.topic_partition, metadata.offset
        persisted = self.data.persisted_offset(tp)  # None: a memory store, or nothing yet
        if persisted is not None and offset != persisted + 1:
            log.warning(
                "another worker wrote this changelog partition: read again at the next recovery",
                extra={"topic": tp.topic, "partition": tp.partition, "offset": persisted + 1},
            )
            return
        self._on_changelog_sent(fut)

    def _store_locally(self, partition: int, key: Any, pending: _Pending) -> None:
        store: Any = self.data  # faust's store classes, by what they have (their private API)
        if hasattr(store, "_db_for_partition"):  # RocksDB: one database per partition
            db = store._db_for_partition(partition)
            raw_key = store._encode_key(key)
            if pending.deleted:
                db.delete(raw_key)
            else:
                store._key_index[raw_key] = partition
                db.put(raw_key, store._encode_value(pending.value))
        elif pending.deleted:  # memory
            store.pop(key, None)
        else:
            store[key] = pending.value

    async def on_rebalance(
        self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP], generation_id: int = 0
    ) -> None:
        gone = {tp.partition for tp in revoked}
        for key in [k for k, p in self._pending.items() if p.partition in gone]:
            del self._pending[key]
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)

    # -- reads: what this worker wrote, acknowledged or not ----------------------------

    def __getitem__(self, key: Any) -> Any:
        pending = self._pending.get(key)
        if pending is None:
            return super().__getitem__(key)
        self.on_key_get(key)
        if pending.deleted:
            return self.__missing__(key)
        return pending.value

    def local_value(self, partition: int, key: Any) -> Any:
        """What this worker holds for `key` in one partition, outside any message's
        context (a changelog being restored): its pending write, else its store's."""
        pending = self._pending.get(key)
        if pending is not None and pending.partition == partition:
            return None if pending.deleted else pending.value
        store: Any = self.data
        if hasattr(store, "_db_for_partition"):  # RocksDB: one database per partition
            raw = store._db_for_partition(partition).get(store._encode_key(key))
            return None if raw is None else store._decode_value(raw)
        return store.get(key)

    def __contains__(self, key: object) -> bool:
        pending = self._pending.get(key)
        if pending is None:
            return super().__contains__(key)
        return not pending.deleted

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[Any]:
        return (key for key, _ in self._items())

    def __len__(self) -> int:
        return sum(1 for _ in self._items())

    def keys(self) -> Any:
        return [key for key, _ in self._items()]

    def values(self) -> Any:
        return [value for _, value in self._items()]

    def items(self) -> Any:
        return list(self._items())

    def _items(self) -> Iterator[tuple[Any, Any]]:
        pending = dict(self._pending)
        for key, value in self.data.items():
            if key not in pending:
                yield key, value
        for key, staged in pending.items():
            if not staged.deleted:
                yield key, staged.value
