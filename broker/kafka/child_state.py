"""The child stage's tables held by the child loop: in memory, written back as the
records of the very changelog topics the faust tables use.

The faust `child` agent keeps `child-pictures`, `child-inbox` and `child-timers` as
faust tables; each is a compacted changelog topic, `<app id>-<table>-changelog`,
partitioned as broker.linked.v1 (the key, a child id, is the message's key). The child
loop (broker/kafka/child_loop.py) keeps the same three mappings in memory for the
partitions it owns, restores them from the same topics, and writes each batch's changes
to them in the batch's transaction. So:

- the MASH page, which reads the `child-pictures` changelog, reads the loop's pictures
  without a change;
- a worker switched from the faust agent to the loop starts from the agent's state
  (including each partition's next offset, `broker.pipeline.offsets.next_offset_key`):
  nothing is moved;
- the record format is faust's: the key is the child id as a JSON string (faust's
  `table_key_serializer`), a picture's value its JSON bytes as they are (the table's
  `value_type=bytes`), the other tables' values JSON, a deleted key a tombstone.

`StateMap` is a `MutableMapping`, as a faust table is to `broker.pipeline.child_store`:
a write lands in memory and is also noted, under the partition being handled
(`partition`), until the loop takes it (`taken`) into the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Final

from broker.kafka.tables import PICTURES, changelog_topic
from broker.topics import TopicSpec

INBOX: Final = "child-inbox"
TIMERS: Final = "child-timers"
CHILD_TABLES: Final = (PICTURES, INBOX, TIMERS)
"""The child stage's faust tables, as broker.kafka.tables declares them."""

StateRecord = tuple[bytes, bytes | None]
"""A changelog record: key and value (None: a tombstone)."""


def child_changelogs(app_id: str, partitions: int) -> list[TopicSpec]:
    """The changelog topics of the child stage's tables: created by faust when it runs the
    agent, by the worker (broker.compose.worker_topics) when it runs the loop, with the
    settings faust gives a changelog (compacted, as many partitions as the source)."""
    return [
        TopicSpec(
            changelog_topic(app_id, table),
            compacted=True,
            internal=True,
            description=f"the child stage's {table} table",
            partitions=partitions,
        )
        for table in CHILD_TABLES
    ]


def encode_key(key: str) -> bytes:
    return json.dumps(key).encode("utf-8")


def decode_key(raw: bytes) -> str | None:
    """The child id a changelog key holds; None for a key that is not a JSON string."""
    try:
        key = json.loads(raw)
    except ValueError:
        return None
    return key if isinstance(key, str) else None


@dataclass
class StateMap(MutableMapping[str, Any]):
    """One child-stage table for the partitions the loop owns (see the module's doc)."""

    table: str
    raw_values: bool = False
    """The picture table: values are bytes as they are, not JSON."""
    partition: int = -1
    """The partition of broker.linked.v1 being handled: where a write belongs."""
    data: dict[str, Any] = field(default_factory=dict)
    home: dict[str, int] = field(default_factory=dict)
    """Each key's partition."""
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Per partition, the writes not yet taken (a value, or None: deleted)."""

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.home[key] = self.partition
        self.pending.setdefault(self.partition, {})[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        partition = self.home.pop(key, self.partition)
        self.pending.setdefault(partition, {})[key] = None

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def load(self, partition: int, key: bytes, value: bytes | None) -> None:
        """A record of the changelog, read in order when the partition is taken. It
        touches its own partition's keys only: the loop reads a partition taken while it
        keeps others (a key is one child's, so it lives in one partition; a tombstone
        for a key held under another partition is not this partition's to apply)."""
        child_id = decode_key(key)
        if child_id is None:
            return
        if value is None:
            if self.home.get(child_id, partition) == partition:  # another's: left alone
                self.data.pop(child_id, None)
                self.home.pop(child_id, None)
            return
        self.data[child_id] = value if self.raw_values else json.loads(value)
        self.home[child_id] = partition

    def reset(self) -> None:
        """Forget everything, writes not taken included (every partition given up)."""
        self.data.clear()
        self.home.clear()
        self.pending.clear()

    def drop(self, partitions: Collection[int]) -> None:
        """Forget the partitions given up, writes not taken included; the other
        partitions' keys stay as they are (the loop keeps what it still holds across a
        rebalance: broker/kafka/child_loop.py)."""
        gone = set(partitions)
        for key in [key for key, home in self.home.items() if home in gone]:
            del self.home[key]
            self.data.pop(key, None)
        for partition in gone:
            self.pending.pop(partition, None)

    def taken(self, partition: int) -> list[StateRecord]:
        """The partition's writes since they were last taken, as changelog records."""
        writes = self.pending.pop(partition, {})
        return [(encode_key(key), self._value(value)) for key, value in writes.items()]

    def _value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if self.raw_values:
            return bytes(value)
        return json.dumps(value).encode("utf-8")


def child_state_maps() -> dict[str, StateMap]:
    """The three tables, by name, empty."""
    return {table: StateMap(table, raw_values=table == PICTURES) for table in CHILD_TABLES}
