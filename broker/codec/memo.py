"""The Avro datum an internal event was read from, kept to write the event again.

The link stage reads each accepted event (broker.accepted.v1) and writes it again at
once, nested in its ChildMessage on broker.linked.v1: a model dump and an Avro write
that give back the datum it has just read. A record read with our current schema and
built without validating it again (`AvroCodec.decode_trusted`) is a frozen model, and
our encoder wrote that datum from an equal model, so encoding it again gives the same
bytes. The codec therefore keeps the datum beside the model for the most recent reads,
and an encode of that very object frames the datum again instead of writing it.

Kept by identity, not equality: equal models read with different writer schemas
would have different data, and hashing a model costs what writing it does. Each entry
holds its model, so the id cannot be taken by another object while the entry lives.
Bounded (oldest out first), so a read never written again costs only its entry's place
for a while.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from pydantic import BaseModel

from broker.codec.schemas import WriterSchema

LIMIT: Final = 4_096
"""Entries kept: well above a link batch (500 records by default, MASH_LINK_BATCH_MAX)
and the child stage's reads that may come between its read and its write."""


class ReadData:
    """The datum each of the latest trusted reads came from, by the model's identity."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        # ordered: the oldest out in constant time (a dict's first key is found by
        # stepping over every slot deleted before it)
        self._entries: OrderedDict[int, tuple[BaseModel, WriterSchema, bytes]] = OrderedDict()
        self.reused = 0
        """Encodes answered from a kept datum (for tests and benchmarks)."""

    def keep(self, model: BaseModel, writer: WriterSchema, datum: bytes) -> None:
        if self.limit <= 0:
            return  # nothing is kept
        entries = self._entries
        if len(entries) >= self.limit:
            entries.popitem(last=False)
        entries[id(model)] = (model, writer, datum)

    def datum(self, model: BaseModel, writer: WriterSchema) -> bytes | None:
        """The datum `model` itself was read from with `writer`, if it was kept."""
        entry = self._entries.get(id(model))
        if entry is None or entry[0] is not model or entry[1] is not writer:
            return None
        self.reused += 1
        return entry[2]
