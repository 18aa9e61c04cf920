"""A table that cannot be written is the disk's fault, never the message's.

Before, a step whose table read or write raised was kept as a "fault of the broker":
the message went to broker.rejected.v1 and was acknowledged, so a full or read-only
disk turned events into rejections, lost to the children's pictures. Now the agents
raise, nothing of the batch is sent or acknowledged, and the worker stops
(broker/ops/state_dir.py; the live behaviour: tests/integration/test_state_dir_unwritable.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from agents.child import handle_child_batch
from agents.link import handle_accepted_batch
from broker.config.partnership import load_config
from broker.errors import StateUnwritable
from broker.models.internal import ChildMessage
from broker.pipeline.child_store import ChildStore
from broker.pipeline.identity_store import IdentityStore
from broker.pipeline.sink import MemorySink
from tests.agents.test_batches import CLOCK, police

# What rocksdict raises when RocksDB cannot append to its log (seen on a full tmpfs)
DISK_FULL = Exception(
    "IO error: No space left on device: While appending to file: state/000004.log: "
    "No space left on device"
)


class BrokenTable(dict[str, Any]):
    """A faust table over a RocksDB store on a disk that refuses every write."""

    def get(self, key: str, default: Any = None) -> Any:
        raise DISK_FULL

    def __contains__(self, key: object) -> bool:
        raise DISK_FULL

    def __getitem__(self, key: str) -> Any:
        raise DISK_FULL

    def __setitem__(self, key: str, value: Any) -> None:
        raise DISK_FULL


@pytest.mark.asyncio
async def test_a_link_step_on_a_broken_store_stops_the_agent_and_rejects_nothing() -> None:
    sink = MemorySink()
    with pytest.raises(StateUnwritable):
        await handle_accepted_batch(
            [b"a"],
            lambda raw: police("pol-disk"),
            seen=BrokenTable(),
            identity=IdentityStore({}),
            held={},
            sink=sink,
            clock=CLOCK,
        )
    assert sink.records == []  # no rejection, no linked record: the message is redone


@pytest.mark.asyncio
async def test_a_child_step_on_a_broken_store_stops_the_agent_and_rejects_nothing() -> None:
    sink = MemorySink()
    message = ChildMessage(kind="event", child_id="child-d", at=CLOCK.now(), event=police("p"))
    with pytest.raises(StateUnwritable):
        await handle_child_batch(
            [(b"", 0)],
            lambda raw: message,
            ChildStore(BrokenTable(), {}, {}),
            sink,
            config=load_config(),
            clock=CLOCK,
        )
    assert sink.records == []


@pytest.mark.asyncio
async def test_any_other_fault_is_still_kept_on_the_rejected_topic() -> None:
    sink = MemorySink()

    def decode(raw: bytes) -> Any:
        raise ValueError("not a record of ours")

    outcomes = await handle_accepted_batch(
        [b"x"], decode, seen={}, identity=IdentityStore({}), held={}, sink=sink, clock=CLOCK
    )
    assert outcomes == ["failed"]
    assert len(sink.records) == 1
