"""The ticker sends a tick for every deadline that falls due, at the first look after.

It holds back a tick it sent less than `RESEND_SECONDS` ago (the child has not acted on
it yet). `bench.chaos --seed 2` found a deadline it held back for nothing: the last
probes of a child were all recorded at one instant, so their decisions fell due at one
instant; the tick for the earlier ones was acted on, and the later ones, set after it
and due at the same time, waited a minute for a tick (replay fired them at once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agents.child import Ticker, handle_child
from broker.calendar.clock import ManualClock
from broker.config.partnership import load_config
from broker.models.internal import ChildMessage
from broker.pipeline.child_store import ChildStore
from broker.pipeline.sink import MemorySink
from tests.unit.test_applied_once import police

RECORDED = datetime(2026, 6, 20, 14, 35, tzinfo=UTC)
LATER = datetime(2026, 7, 4, 14, 35, tzinfo=UTC)


@pytest.mark.asyncio
async def test_a_deadline_set_after_a_tick_at_the_same_time_gets_its_own_tick() -> None:
    tables: dict[str, dict[str, Any]] = {"pictures": {}, "inbox": {}, "timers": {}}
    store = ChildStore(tables["pictures"], tables["inbox"], tables["timers"])
    sink, config = MemorySink(), load_config()

    async def event(event_id: str) -> None:
        message = ChildMessage(
            kind="event", child_id="child-p", at=RECORDED, event=police(event_id, RECORDED)
        )
        await handle_child(message, 0, store, sink, config)

    ticker = Ticker(store, sink, ManualClock(LATER))
    await event("probe-48")
    assert await ticker.run_once({0}) == 1
    [tick] = sink.records[-1:]
    await handle_child(tick.value, 0, store, sink, config)  # acted on: the deadline fired
    assert "child-p" not in tables["timers"]

    await event("probe-49")  # recorded at the same instant: due at the same instant
    assert tables["timers"]["child-p"]["due"] == store.due(LATER, False, {0})[0].due.isoformat()
    assert await ticker.run_once({0}) == 1  # at once, not RESEND_SECONDS later
