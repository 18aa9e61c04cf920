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

The one exception is the link stage as a transactional loop (MASH_LINK_STAGE=loop,
broker/kafka/link_loop.py), which writes broker.linked.v1 in Kafka transactions: each
commit leaves a marker, an offset no consumer is handed, on each partition the
transaction wrote, after the last record it wrote there. The loop says which record is
that last one (the header `CLOSES_TRANSACTION`): the offset after it is the marker's
unless a plain producer (the ticker) wrote a record there while the transaction was
open, and in that case the record is handed and goes through. So the stage expects the
next message two offsets on from such a record, and a marker costs no look at Kafka
(agents.rewind asked `broker.kafka.gaps.GapProbe`, one fetch round trip, for each: at
100 events/s, as many as 40 a second on the child stage's path). The one case this does
not see: a tick at that offset skipped by faust, and the next one handed; the ticker
sends a tick not acted on again (agents.child, RESEND_SECONDS). Any other gap is a gap.

A record handed at the offset kept for the marker (the ticker's, written while the
transaction was open) means the marker is still to come, after it: the stage then
expects the next message two offsets on from that record (`Next.marker_owed`, kept
under `owed_key`). Without that, a partition whose last message is such a record
would read one behind for ever in the lag (the marker after it is never handed): CI saw
it so, in tests/integration/test_batch_killed_half_sent.py, with offsets 539 (closing),
540 (a tick) and 541 (the marker), the stage expecting 541 and the highwater at 542.

Keys beginning with `RESERVED` are the stages' own: no event id or child id holds a
control character, and whatever iterates those tables skips them (`is_reserved`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Final

RESERVED: Final = "\x00"
"""The first character of a reserved key of a stage's table."""

NEXT_OFFSET_KEY: Final = RESERVED + "next-offset"
"""The reserved key of seen-events that holds the offset of broker.accepted.v1 the link
stage handles next."""


CLOSES_TRANSACTION: Final = "mash-closes-txn"
"""The header the link loop puts on the last record a transaction writes to a partition."""


def closes_transaction(headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None) -> bool:
    """Whether a message's headers (aiokafka's list of (name, bytes), or a mapping) mark
    it as the last record of a transaction on its partition."""
    if headers is None:
        return False
    if isinstance(headers, Mapping):
        return CLOSES_TRANSACTION in headers
    return any(name == CLOSES_TRANSACTION for name, _ in headers)


def closing(destinations: Sequence[tuple[str, int]]) -> list[bool]:
    """For records sent in this order to these (topic, partition)s in one transaction,
    whether each is the last one sent to its partition: the one its marker follows."""
    last = {destination: n for n, destination in enumerate(destinations)}
    return [last[destination] == n for n, destination in enumerate(destinations)]


def after(offset: int, closes: bool = False) -> int:
    """The offset of the message expected after the one at `offset`: the next, or the
    one after it when `offset` closes a transaction (its marker comes between)."""
    return offset + 2 if closes else offset + 1


@dataclass(frozen=True, slots=True)
class Next:
    """Where a partition goes on: the offset of the message expected next, and whether
    the offset before it is kept for a transaction's marker not yet seen (the last
    message handed closed a transaction, or took the place kept for its marker)."""

    offset: int
    marker_owed: bool = False


def advance(position: Next | None, offset: int, closes: bool = False) -> Next:
    """Where the partition goes on once the message at `offset` is handled.

    A message at the offset kept for a marker is a record written while the
    transaction was open: the marker comes after it. Any other message before
    `position` is Kafka delivering again what was handled: nothing moves."""
    if position is not None and position.marker_owed and offset == position.offset - 1:
        return Next(offset + 2, marker_owed=True)
    following = after(offset, closes)
    if position is None or following > position.offset:
        return Next(following, closes)
    if following == position.offset and closes:
        return Next(following, marker_owed=True)
    return position


def _flags(closing: Sequence[bool], count: int) -> Sequence[bool]:
    return closing if closing else [False] * count


def next_offset_key(partition: int) -> str:
    """The reserved key of child-timers that holds the offset of broker.linked.v1's
    `partition` the child stage handles next. One key per partition, not one key in each
    partition's store: a worker's pending writes (broker.kafka.changelog_first) are kept
    by key alone, whatever the partition."""
    return f"{NEXT_OFFSET_KEY}:{partition}"


def owed_key(key: str) -> str:
    """The reserved key beside a next offset's `key` that holds the offset kept for a
    marker, when one is owed (`Next.marker_owed`): a key of its own, so that a worker
    of an earlier version still reads the next offset as it always did."""
    return f"{key}:marker"


def is_reserved(key: object) -> bool:
    return isinstance(key, str) and key.startswith(RESERVED)


@dataclass(frozen=True, slots=True)
class Plan:
    take: int
    """How many of the batch's messages to handle, from its first."""
    seek_to: int | None
    """Where to read again from: the first offset never handed to the stage."""


def plan(offsets: Sequence[int], expected: Next | int | None, closing: Sequence[bool] = ()) -> Plan:
    """The part of a partition's messages that follows on from `expected` without a gap.
    `closing`: for each message, whether it closes a transaction (`after`); none: no
    message does."""
    position = Next(expected) if isinstance(expected, int) else expected
    take = 0
    for offset, closes in zip(offsets, _flags(closing, len(offsets)), strict=True):
        if position is not None and offset > position.offset:
            return Plan(take, position.offset)
        take += 1
        position = advance(position, offset, closes)
    return Plan(take, None)


def plan_partitions(
    messages: Sequence[tuple[int, int]],
    expected: Mapping[int, Next | int | None],
    closing: Sequence[bool] = (),
) -> dict[int, Plan]:
    """Each partition's plan, for a batch of (partition, offset) that may hold several
    partitions' messages, each partition's in its order; `closing` as for `plan`, one
    flag a message."""
    by_partition: dict[int, tuple[list[int], list[bool]]] = {}
    for (partition, offset), closes in zip(messages, _flags(closing, len(messages)), strict=True):
        found, flags = by_partition.setdefault(partition, ([], []))
        found.append(offset)
        flags.append(closes)
    return {p: plan(found, expected.get(p), flags) for p, (found, flags) in by_partition.items()}


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


def expected_next(table: Mapping[str, str], key: str = NEXT_OFFSET_KEY) -> Next | None:
    """The partition's `Next` as kept: a marker is owed when its offset is the one kept
    under `owed_key` (the next offset only grows, so an older one never matches)."""
    offset = expected(table, key)
    if offset is None:
        return None
    return Next(offset, table.get(owed_key(key)) == str(offset - 1))


def keep(
    table: MutableMapping[str, str],
    handled: Sequence[int],
    key: str = NEXT_OFFSET_KEY,
    closing: Sequence[bool] = (),
) -> None:
    """After a durable batch: the offset to handle next (`closing` as for `plan`)."""
    if not handled:
        return
    before = expected_next(table, key)
    position = before
    for offset, closes in zip(handled, _flags(closing, len(handled)), strict=True):
        position = advance(position, offset, closes)
    if position is None or position == before:  # None: never, a message was handled
        return
    if before is None or position.offset != before.offset:
        table[key] = str(position.offset)
    if position.marker_owed:
        table[owed_key(key)] = str(position.offset - 1)


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
