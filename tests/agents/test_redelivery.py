"""A linked message delivered again after a crash changes nothing and publishes nothing.

The child agent stores a child's slot once the batch's records are durable, and faust
commits the offset later: a worker killed in between gets the same messages again.
`bench.chaos --seed 2` found such a redelivery applied a second time once the clock was
far past the event (tests/unit/test_applied_once.py has why).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agents.child import handle_child_batch
from broker.calendar.clock import ManualClock
from broker.config.partnership import load_config
from broker.models.internal import ChildMessage
from broker.pipeline.child_store import ChildStore
from broker.pipeline.sink import MemorySink
from tests.unit.test_applied_once import FAR_LATER, police


async def deliver(messages: list[ChildMessage], store: ChildStore) -> MemorySink:
    sink = MemorySink()
    queue = iter(messages)
    await handle_child_batch(
        [(b"", 0)] * len(messages),
        lambda raw: next(queue),
        store,
        sink,
        config=load_config(),
        clock=ManualClock(FAR_LATER),
    )
    return sink


@pytest.mark.asyncio
async def test_a_batch_delivered_again_after_its_slots_were_stored_is_a_no_op() -> None:
    pictures: dict[str, Any] = {}
    timers: dict[str, Any] = {}
    store = ChildStore(pictures, {}, timers)
    at = datetime(2030, 7, 17, 4, 32, tzinfo=UTC)
    batch = [
        ChildMessage(kind="event", child_id="child-x", at=at, event=police(event_id))
        for event_id in ("pol-1", "pol-2")
    ]
    first = await deliver(batch, store)
    assert first.records  # the alerts, deadlines and feedback of two RED notices
    stored = (dict(pictures), dict(timers))

    again = await deliver(batch, store)  # killed before the offsets were committed

    assert again.records == []
    assert (pictures, timers) == stored
