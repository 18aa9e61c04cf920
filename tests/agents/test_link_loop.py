"""The link loop's batch transform (MASH_LINK_STAGE=loop) is the faust link agent's.

`agents.link_loop.LoopLinker` links a batch with the agent's own function over state
kept as the records of one compacted topic (broker.pipeline.link_state). What must
hold, for scenario events (a held event and the decision that merges it, a
contradicting NHS number, a misspelt name, twins, a duplicate, an id re-used for other
content), a council's stream and bytes that do not decode:

- batch by batch, its outputs and outcomes are those of `handle_accepted_batch` over the
  faust agent's tables (plain dicts here), and the state it keeps is the tables';
- its state records, read back from the beginning as a loop that takes the partition
  over reads the topic, give the same state (seen marks, held events, the identity
  index, the event clock);
- a loop that takes over half-way (a fresh linker, loaded from the first half's state
  records) links the second half exactly as the agent did;
- and so does one moved over from the agent's tables' changelogs (the switch from
  MASH_LINK_STAGE=faust to loop).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from agents.link import handle_accepted_batch
from agents.link_loop import LoopLinker
from bench.live_events import council_events
from broker.calendar.clock import EventClock
from broker.codec import AvroCodec
from broker.models.events import Event
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.link_state import FaustTables, LinkState, StateRecord
from broker.pipeline.records import OutRecord
from broker.pipeline.sink import MemorySink
from broker.settings import Settings
from broker.topics import ACCEPTED, REJECTED
from tests.identity_scenarios import scenario_events

CODEC = AvroCodec(Settings().schemas_dir)
BATCH = 7


def _raws() -> list[bytes]:
    events: list[Event] = scenario_events()
    events += council_events(400, 3)
    raws = [CODEC.encode(e, topic=ACCEPTED.name) for e in events]
    raws.insert(5, b"\x00not an accepted event")  # a fault: kept on broker.rejected.v1
    raws.insert(len(raws) // 2, raws[10])  # Kafka delivering one again, later
    return raws


def _batches(raws: list[bytes]) -> list[tuple[list[bytes], list[int]]]:
    return [
        (raws[i : i + BATCH], list(range(i, min(i + BATCH, len(raws)))))
        for i in range(0, len(raws), BATCH)
    ]


class AgentTables:
    """The faust agent's three tables, as plain dicts, and its outputs batch by batch."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.held: dict[str, str] = {}
        self.identity: dict[str, Any] = {}
        self.store = IdentityStore(self.identity)
        self.clock = EventClock()

    async def link(self, raws: list[bytes], offsets: list[int]) -> tuple[list[OutRecord], Any]:
        sink = MemorySink()
        outcomes = await handle_accepted_batch(
            raws,
            CODEC.decode,
            seen=self.seen,
            identity=self.store,
            held=self.held,
            sink=sink,
            clock=self.clock,
            message_offsets=offsets,
        )
        return sink.records, outcomes


def _state_of(state: LinkState) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    return dict(state.seen.data), dict(state.held.data), dict(state.identities.data)


def _rebuilt(records: list[StateRecord]) -> LinkState:
    state = LinkState()
    for key, value in records:
        state.load(key, value)
    return state


def _same_index(one: LinkState, other: LinkState) -> None:
    a, b = one.store.index, other.store.index
    assert sorted(a.child_ids()) == sorted(b.child_ids())
    assert all(a.to_state(c) == b.to_state(c) for c in a.child_ids())


@pytest.mark.asyncio
async def test_the_loops_batches_are_the_agents_batches_and_its_state_the_tables() -> None:
    agent, loop = AgentTables(), LoopLinker(CODEC.decode, EventClock())
    written: list[StateRecord] = []
    outcomes: list[str] = []
    rejected = 0
    for raws, offsets in _batches(_raws()):
        expected, expected_outcomes = await agent.link(raws, offsets)
        batch = await loop(raws, offsets)
        assert [record for record, _ in batch.outgoing] == expected
        assert batch.outcomes == expected_outcomes
        assert _state_of(loop.state) == (agent.seen, agent.held, agent.identity)
        written += batch.state
        outcomes += batch.outcomes
        rejected += sum(r.topic == REJECTED.name for r, _ in batch.outgoing)
    assert {"linked", "duplicate", "review", "conflict", "failed"} <= set(outcomes)
    assert rejected == outcomes.count("failed") + outcomes.count("conflict")
    assert any(key.startswith(b"h:") and value is None for key, value in written)  # released
    assert loop.clock.now() == agent.clock.now()

    rebuilt = _rebuilt(written)  # as a loop that takes the partition over reads the topic
    assert _state_of(rebuilt) == _state_of(loop.state)
    _same_index(rebuilt, loop.state)


@pytest.mark.asyncio
async def test_a_loop_that_takes_over_half_way_links_on_as_the_agent_did() -> None:
    batches = _batches(_raws())
    half = len(batches) // 2
    agent, first = AgentTables(), LoopLinker(CODEC.decode, EventClock())
    written: list[StateRecord] = []
    for raws, offsets in batches[:half]:
        await agent.link(raws, offsets)
        written += (await first(raws, offsets)).state
    second = LoopLinker(CODEC.decode, EventClock())  # another process: a fresh clock
    for key, value in written:
        second.load(key, value)
    for raws, offsets in batches[half:]:
        expected, _ = await agent.link(raws, offsets)
        batch = await second(raws, offsets)
        assert [record for record, _ in batch.outgoing] == expected
    assert _state_of(second.state) == (agent.seen, agent.held, agent.identity)


def test_a_tombstone_deletes_and_an_unknown_kind_is_refused() -> None:
    state = _rebuilt([(b"h:ev-1", b"{}"), (b"s:ev-1", b"abc@2026-01-01T00:00:00+00:00")])
    state.load(b"h:ev-1", None)
    assert dict(state.held.data) == {}
    assert list(state.seen.data) == ["ev-1"]
    assert state.drain() == []  # what was read is not written back
    with pytest.raises(ValueError, match="no known kind"):
        state.load(b"x:what", b"1")


class Changelogged(MutableMapping[str, Any]):
    """A faust table as its changelog records it: each write's key and value as faust's
    JSON serializers put them on the topic (a deletion: no value)."""

    def __init__(self, table: str, changelog: list[tuple[str, bytes, bytes | None]]) -> None:
        self.table, self.changelog, self.data = table, changelog, dict[str, Any]()

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.changelog.append((self.table, json.dumps(key).encode(), json.dumps(value).encode()))

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.changelog.append((self.table, json.dumps(key).encode(), None))

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@pytest.mark.asyncio
async def test_a_loop_moved_over_from_the_agents_changelogs_links_on_as_the_agent_did() -> None:
    """MASH_LINK_STAGE=faust for the first half, then loop: the faust tables' changelogs
    (broker.kafka.link_migration) become the loop's state, and it links the second half
    as the agent goes on doing."""
    batches = _batches(_raws())
    half = len(batches) // 2
    changelog: list[tuple[str, bytes, bytes | None]] = []
    agent = AgentTables()
    agent.seen = Changelogged("seen-events", changelog)  # type: ignore[assignment]
    agent.held = Changelogged("held-events", changelog)  # type: ignore[assignment]
    agent.identity = Changelogged("identity", changelog)  # type: ignore[assignment]
    agent.store = IdentityStore(agent.identity)
    for raws, offsets in batches[:half]:
        await agent.link(raws, offsets)
    assert {"seen-events", "held-events", "identity"} == {t for t, _, _ in changelog}
    assert any(value is None for _, _, value in changelog)  # a released held event

    tables = FaustTables()
    for table, key, value in changelog:
        tables.load(table, key, value)
    moved = tables.records()
    loop = LoopLinker(CODEC.decode, EventClock())  # another process: a fresh clock
    for key, value in moved:
        loop.load(key, value)
    assert _state_of(loop.state) == (dict(agent.seen), dict(agent.held), dict(agent.identity))
    for raws, offsets in batches[half:]:
        expected, _ = await agent.link(raws, offsets)
        batch = await loop(raws, offsets)
        assert [record for record, _ in batch.outgoing] == expected
    assert _state_of(loop.state) == (dict(agent.seen), dict(agent.held), dict(agent.identity))
