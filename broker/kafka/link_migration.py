"""The move from the faust link agent's tables to the link loop's state topic.

A worker that has run with `MASH_LINK_STAGE=faust` holds the link stage's state in three
faust tables (identity, seen-events, held-events: broker.kafka.tables), each backed by a
changelog, and its place in broker.accepted.v1 as the offset faust committed for its
consumer group (the app id). The loop (broker/kafka/link_loop.py) keeps the same state
as the records of `<app id>-link-state` and its place as the offset committed for its
own group (`<app id>-link`). When the loop first takes the partition and finds its state
topic empty while the changelogs hold state, it reads them to their end, and writes the
equivalent state records and that offset in one transaction (`LinkLoop._migrate`),
before its first batch.

Why one transaction makes the move safe to interrupt: until it commits, a reader of the
state topic (read_committed) finds it empty and the loop's group has no offset, so the
next owner (after a kill, a fencing, a rebalance) does the move again from the start;
once it has committed, the state topic is no longer empty and the move is never done
again. The faust tables are only read, never changed: an operator can go back
(docs/identity.md, "Moving between the faust agent and the loop").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiokafka import TopicPartition

from broker.kafka.admin import committed_offsets
from broker.kafka.link_loop import read_state
from broker.kafka.tables import changelog_topic
from broker.pipeline.link_state import FAUST_TABLES, FaustTables, StateRecord
from broker.topics import ACCEPTED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    """What the loop writes in its first transaction when it moves over from faust."""

    state: list[StateRecord]
    """The faust tables' state as the loop's state records."""
    offset: int
    """Where the loop starts in broker.accepted.v1: faust's committed offset (0 if none:
    what faust handled again is seen, and de-duplicated, as after a crash)."""


@dataclass(frozen=True)
class FromFaust:
    """The loop's `migration`: the faust link tables of `app_id`, if they hold state."""

    bootstrap: str
    app_id: str
    client_options: Mapping[str, Any] | None = None

    async def __call__(self) -> Migration | None:
        tables = await read_faust_tables(self.bootstrap, self.app_id, self.client_options)
        state = tables.records()
        if not state:
            return None
        offset = await faust_committed(self.bootstrap, self.app_id, self.client_options)
        log.info(
            "link loop moving the faust link tables over",
            extra={"count": tables.count, "offset": offset},
        )
        return Migration(state, offset or 0)


async def read_faust_tables(
    bootstrap: str, app_id: str, client_options: Mapping[str, Any] | None = None
) -> FaustTables:
    """The faust link tables as their changelogs hold them, each read to its end."""
    tables = FaustTables()
    for table in FAUST_TABLES:
        topic = changelog_topic(app_id, table)
        await read_state(bootstrap, topic, partial(tables.load, table), client_options)
    return tables


async def faust_committed(
    bootstrap: str, app_id: str, client_options: Mapping[str, Any] | None = None
) -> int | None:
    """The offset of broker.accepted.v1 faust's consumer group (the app id) committed:
    where the faust link agent would have gone on. None if it committed none."""
    tp = TopicPartition(ACCEPTED.name, 0)  # one partition: linking is one writer
    return (await committed_offsets(bootstrap, app_id, [tp], client_options)).get(tp)
