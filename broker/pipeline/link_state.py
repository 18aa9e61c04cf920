"""The link stage's state as records of one compacted topic, for the transactional loop.

With `MASH_LINK_STAGE=loop` the link stage runs off faust (broker/kafka/link_loop.py) and
keeps its state not in three faust tables but in one compacted topic,
`<app id>-link-state` (broker.topics.link_state_topic), written in the same Kafka
transaction as the batch's outputs and offsets (docs/identity.md). A key says what a
record is:

- `i:<child id>`: the identity index's state of that child (JSON, `IdentityStore`'s);
- `s:<event id>`: the event's seen mark (`dedupe.mark_seen`'s value), and the stage's
  reserved keys of seen-events (the event clock, `event_time.EVENT_TIME_KEY`; the next
  offset, `offsets.NEXT_OFFSET_KEY`);
- `h:<event id>`: an event held for a person's identity decision (its JSON);

and a tombstone (no value) deletes it: a released held event, a swept seen mark, a child
merged away. The batch is linked by the very function the faust agent runs
(`agents.link.handle_accepted_batch`) over the mappings of `LinkState`, which remember
what was written (`Recorded`): what changed is the batch's state records (`drain`), and
a loop that takes the partition over rebuilds the same state by `load`ing the topic from
its beginning.

Pure: nothing here touches Kafka or Avro.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from broker.pipeline import offsets
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import Outgoing

IDENTITY: Final = b"i:"
SEEN: Final = b"s:"
HELD: Final = b"h:"

StateRecord = tuple[bytes, bytes | None]
"""(key, value) of the state topic; a None value is a tombstone."""


class Recorded(MutableMapping[str, Any]):
    """A dict that remembers which keys were written or deleted since `drain`."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.changed: dict[str, None] = {}

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.changed[key] = None

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.changed[key] = None

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)  # the hot path: seen marks, the index

    def drain(self) -> Iterator[tuple[str, Any]]:
        """(key, value or None if deleted) for each key changed, once."""
        changed, self.changed = self.changed, {}
        for key in changed:
            yield key, self.data.get(key)


@dataclass
class LinkState:
    """seen-events, held-events and the identity index, as the loop keeps them."""

    seen: Recorded = field(default_factory=Recorded)
    held: Recorded = field(default_factory=Recorded)
    identities: Recorded = field(default_factory=Recorded)
    store: IdentityStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = IdentityStore(self.identities)

    def drain(self) -> list[StateRecord]:
        """The state records of everything written since the last drain: identities,
        then held events, then seen marks (each kind in the order first written)."""
        records: list[StateRecord] = []
        for child_id, state in self.identities.drain():
            value = None if state is None else json.dumps(state).encode()
            records.append((IDENTITY + child_id.encode(), value))
        for prefix, mapping in ((HELD, self.held), (SEEN, self.seen)):
            for key, text in mapping.drain():
                records.append((prefix + key.encode(), None if text is None else text.encode()))
        return records

    def load(self, key: bytes, value: bytes | None) -> None:
        """One record of the state topic, read from its beginning (the last one of a key
        wins, as compaction keeps it). Not a change: nothing to write back."""
        kind, name = key[:2], key[2:].decode()
        mapping = {IDENTITY: self.identities, SEEN: self.seen, HELD: self.held}.get(kind)
        if mapping is None:
            raise ValueError("a state record of no known kind")
        if value is None:
            mapping.data.pop(name, None)
        else:
            text = value.decode()
            mapping.data[name] = json.loads(text) if kind == IDENTITY else text
        self.store.invalidate()  # the index is built from the identities when next used


FAUST_TABLES: Final = {"identity": IDENTITY, "seen-events": SEEN, "held-events": HELD}
"""The faust link agent's tables (broker.kafka.tables), and the kind of state record each
becomes in the loop's state topic."""


class FaustTables:
    """The faust link agent's tables rebuilt from their changelogs, as the state records
    of the loop's state topic: the move from `MASH_LINK_STAGE=faust` to `loop`.

    A changelog record's key is the JSON of the key (faust's table key serializer), its
    value the JSON of the value (an identity's object, a seen mark's or a held event's
    string) or none (deleted). They are applied as faust's restore applies them
    (broker.kafka.newest_wins): in order, the last of a key wins, but a value stamped
    with a source offset older than the one the key already holds is a late write of a
    worker behind the stage's order, and is skipped. The values are kept as they are,
    stamps included: the loop's function writes the very same ones."""

    def __init__(self) -> None:
        self.state = LinkState()
        self._newest: dict[tuple[bytes, str], int | None] = {}
        self.count = 0

    def load(self, table: str, key: bytes, value: bytes | None) -> None:
        kind = FAUST_TABLES[table]
        name = json.loads(key)
        if not isinstance(name, str):
            raise ValueError("a faust link table's key that is not a string")
        mapping = {IDENTITY: self.state.identities, SEEN: self.state.seen, HELD: self.state.held}
        self.count += 1
        if value is None:
            mapping[kind].pop(name, None)
            self._newest[kind, name] = None
            return
        decoded = json.loads(value)
        incoming = offsets.source_offset(decoded)
        held = self._newest.get((kind, name))
        if incoming is not None and held is not None and incoming < held:
            return  # written late by a worker behind the stage's order
        self._newest[kind, name] = incoming
        mapping[kind][name] = decoded

    def records(self) -> list[StateRecord]:
        """The state records of every key the tables hold (no tombstones: the state
        topic they go to is empty)."""
        return [(key, value) for key, value in self.state.drain() if value is not None]


class BatchSink:
    """The sink port for the loop: it keeps a batch's records, which the loop then sends
    in its transaction (their durability is the transaction's commit)."""

    def __init__(self) -> None:
        self.outgoing: list[Outgoing] = []

    async def send(self, record: Any, *, recorded_at: datetime | None = None) -> None:
        self.outgoing.append((record, recorded_at))

    async def send_all(self, records: Sequence[Outgoing]) -> None:
        self.outgoing.extend(records)


@dataclass(frozen=True)
class LinkedBatch:
    """What one batch decided: its outputs, in order, and the state records it wrote."""

    outgoing: list[Outgoing]
    state: list[StateRecord]
    outcomes: list[str]
