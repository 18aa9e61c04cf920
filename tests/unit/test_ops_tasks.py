"""`/debug/tasks`: where each coroutine waits, by code location only."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from broker.ops.tasks import task_stacks


@pytest.mark.asyncio
async def test_a_waiting_coroutine_shows_where_it_waits_and_nothing_it_holds() -> None:
    async def waiting_for_kafka(child_name: str) -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(waiting_for_kafka("Jane Doe"))
    await asyncio.sleep(0)
    try:
        stacks = task_stacks()
        [mine] = [t for t in stacks if t["coroutine"].endswith("waiting_for_kafka")]
        assert mine["frames"][-1].startswith("test_ops_tasks.py:")
        assert mine["frames"][-1].endswith(" waiting_for_kafka")
        assert "Jane Doe" not in json.dumps(stacks)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
