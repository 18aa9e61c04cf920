"""A stage reads every offset of its partitions, in order, whatever the consumer commits.

faust acknowledges a message its stream skips: one fetched in an earlier group
generation, or one that arrives while flow is suspended for a rebalance
(`faust/streams.py`, "We want to ack the filtered out message"; faust-streaming #216,
#221, #312, #596 are the same family). An acknowledged offset can be committed, and
then no worker ever reads that message: `bench.chaos` seed 2 lost a police notice so
(offset 1757 of broker.accepted.v1, around a worker paused past its session timeout;
the stage that took over began at 1758), and every later alert about that child
counted one risk event fewer.

The link stage and the child stage do not trust the committed offset for that. With
every durable batch a stage keeps, per partition, the next offset it expects in one of
its own tables (written after the batch's outputs are acknowledged, restored with the
table by whichever worker takes the partition over): the link stage under
`NEXT_OFFSET_KEY` in seen-events (broker.accepted.v1 has one partition), the child
stage under `next_offset_key(partition)` in child-timers. A batch that begins past it,
on a partition, is a gap: the stage handles none of that partition's messages from
there, seeks the partition back to the expected offset and reads on from there; the
batch's other partitions go on. Offsets before it are Kafka delivering again what was
already handled (after a crash): those go through as always, and de-duplication (the
link stage) or the rules' idempotence (the child stage) makes them no-ops. The topics
have no gaps of their own: only our own non-transactional producers write them and
they are not compacted.

Keys beginning with `RESERVED` are the stages' own: no event id or child id holds a
control character, and whatever iterates those tables skips them (`is_reserved`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Final

RESERVED: Final = "\x00"
"""The first character of a reserved key of a stage's table."""

NEXT_OFFSET_KEY: Final = RESERVED + "next-offset"
"""The reserved key of seen-events that holds the offset of broker.accepted.v1 the link
stage handles next."""


def next_offset_key(partition: int) -> str:
    """The reserved key of child-timers that holds the offset of broker.linked.v1's
    `partition` the child stage handles next. One key per partition, not one key in each
    partition's store: a worker's pending writes (broker.kafka.changelog_first) are kept
    by key alone, whatever the partition."""
    return f"{NEXT_OFFSET_KEY}:{partition}"


def is_reserved(key: object) -> bool:
    return isinstance(key, str) and key.startswith(RESERVED)


@dataclass(frozen=True, slots=True)
class Plan:
    take: int
    """How many of the batch's messages to handle, from its first."""
    seek_to: int | None
    """Where to read again from: the first offset never handed to the stage."""


def plan(offsets: Sequence[int], expected: int | None) -> Plan:
    """The part of a partition's messages that follows on from `expected` without a gap."""
    position = expected
    take = 0
    for offset in offsets:
        if position is not None and offset > position:
            return Plan(take, position)
        take += 1
        position = offset + 1 if position is None else max(position, offset + 1)
    return Plan(take, None)


def plan_partitions(
    messages: Sequence[tuple[int, int]], expected: Mapping[int, int | None]
) -> dict[int, Plan]:
    """Each partition's plan, for a batch of (partition, offset) that may hold several
    partitions' messages, each partition's in its order."""
    by_partition: dict[int, list[int]] = {}
    for partition, offset in messages:
        by_partition.setdefault(partition, []).append(offset)
    return {p: plan(found, expected.get(p)) for p, found in by_partition.items()}


def handed_on(partitions: Sequence[int], take: Mapping[int, int]) -> list[int]:
    """The positions in a batch (each message's partition, in order) to hand on: the
    first `take[p]` messages of each partition p."""
    seen: dict[int, int] = {}
    positions = []
    for position, partition in enumerate(partitions):
        seen[partition] = seen.get(partition, 0) + 1
        if seen[partition] <= take[partition]:
            positions.append(position)
    return positions


def expected(table: Mapping[str, str], key: str = NEXT_OFFSET_KEY) -> int | None:
    value = table.get(key)
    return int(value) if value is not None else None


def keep(
    table: MutableMapping[str, str], handled: Sequence[int], key: str = NEXT_OFFSET_KEY
) -> None:
    """After a durable batch: the offset to handle next."""
    if not handled:
        return
    after = max(handled) + 1
    before = expected(table, key)
    if before is None or after > before:
        table[key] = str(after)


SOURCE_OFFSET: Final = "source_offset"
"""The field of a table's value (a JSON object) that holds the offset of the source
message whose handling wrote it: the value's place in the stage's order.

Without Kafka's fencing, a worker that lost its partitions and does not know it yet (a
zombie: paused past its session timeout, then let go on) still finishes its batch and
writes its tables after their new owner has gone further. `bench.chaos` seed 2 had one
rewrite a child's identity without the police person id the new owner had just learnt
(identity changelog offsets 667 then 679); the next worker to restore the table lost
it, and linked the child's next police notice on names where replay linked it on the id.
A table restored from its changelog keeps, per key, the value with the highest source
offset (broker.kafka.newest_wins): a late write from behind the stage's order is
ignored. Values without one (written before this field, or outside Kafka) apply as
they come."""


def stamped(value: Mapping[str, object], at: int | None) -> dict[str, object]:
    """`value` with the offset of the message whose handling wrote it."""
    return dict(value) if at is None else {**value, SOURCE_OFFSET: at}


def unstamped(value: object) -> object:
    """A table value without its source offset: what it says, not when it was said."""
    if isinstance(value, Mapping) and SOURCE_OFFSET in value:
        return {k: v for k, v in value.items() if k != SOURCE_OFFSET}
    return value


def source_offset(value: object) -> int | None:
    """The source offset a table value was stamped with, if any."""
    found = value.get(SOURCE_OFFSET) if isinstance(value, Mapping) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None
