"""The link stage reads every offset of broker.accepted.v1, in order, whatever the
consumer commits.

faust acknowledges a message its stream skips: one fetched in an earlier group
generation, or one that arrives while flow is suspended for a rebalance
(`faust/streams.py`, "We want to ack the filtered out message"; faust-streaming #216,
#221, #312, #596 are the same family). An acknowledged offset can be committed, and
then no worker ever reads that message: `bench.chaos` seed 2 lost a police notice so
(offset 1757 of broker.accepted.v1, around a worker paused past its session timeout;
the stage that took over began at 1758), and every later alert about that child
counted one risk event fewer.

The link stage does not trust the committed offset for that. With every durable batch
it keeps the next offset it expects (`NEXT_OFFSET_KEY` in seen-events, written after
the batch's outputs are acknowledged, restored with the table by whichever worker takes
the partition). A batch that begins past it is a gap: the stage handles none of it,
seeks back to the expected offset and reads on from there. Offsets before it are
Kafka delivering again what was already handled (after a crash): those go through as
always, and de-duplication makes them no-ops. The topic has no gaps of its own: no
transactions write it and it is not compacted.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Final

NEXT_OFFSET_KEY: Final = "\x00next-offset"
"""A reserved key of seen-events (no event id holds a control character): the offset of
broker.accepted.v1 the link stage handles next."""


@dataclass(frozen=True, slots=True)
class Plan:
    take: int
    """How many of the batch's messages to handle, from its first."""
    seek_to: int | None
    """Where to read again from: the first offset never handed to the stage."""


def plan(offsets: Sequence[int], expected: int | None) -> Plan:
    """The part of a batch that follows on from `expected` without a gap."""
    position = expected
    take = 0
    for offset in offsets:
        if position is not None and offset > position:
            return Plan(take, position)
        take += 1
        position = offset + 1 if position is None else max(position, offset + 1)
    return Plan(take, None)


def expected(seen: Mapping[str, str]) -> int | None:
    value = seen.get(NEXT_OFFSET_KEY)
    return int(value) if value is not None else None


def keep(seen: MutableMapping[str, str], handled: Sequence[int]) -> None:
    """After a durable batch: the offset to handle next."""
    if not handled:
        return
    after = max(handled) + 1
    before = expected(seen)
    if before is None or after > before:
        seen[NEXT_OFFSET_KEY] = str(after)
