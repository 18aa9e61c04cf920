"""A worker moved from the faust link agent to the link loop carries on where it was.

A worker runs with MASH_LINK_STAGE=faust over the first half of a council's stream and
stops. The same app id, on the same Kafka and state directory, starts again with
MASH_LINK_STAGE=loop: its loop finds its state topic empty and the faust link tables'
changelogs full, and moves them over (broker.kafka.link_migration) in its first
transaction, with faust's committed offset of broker.accepted.v1 as its own. It then
links the second half. What must hold: every output topic, read committed, holds
exactly what replay of the whole stream publishes, each record once. The council's
children come back across the halves, so a loop that linked from nothing would give
them new child ids, and every record about them would differ.

Killed in the move (`CRASH_HOW=migration`: the state records sent and acknowledged in
the transaction, the process SIGKILLed before the commit), nothing of it counts: the
state topic read committed is still empty, so the next start moves the tables again,
and the outputs are still replay's, once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from broker.kafka.local import LocalKafka
from broker.kafka.tables import changelog_topic
from broker.topics import link_state_topic
from tests.integration.crashing_worker import MIGRATION_MARKER
from tests.integration.test_link_loop_killed import _count, _outputs
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _assert_same,
    _council,
    _publish_one,
    _replayed,
    settled_outputs,
)
from tests.integration.test_operations import poll
from tests.integration.worker import CRASHING_WORKER, WorkerProcess

MOVED = "link loop moved the faust link tables over"


def _link_one_by_one(bootstrap: str, worker: LiveWorker, events: list[dict[str, object]]) -> None:
    """Each event once the worker has linked the one before (a scenario's order)."""
    assert poll(worker.ready, 120), worker.process.tail()
    for number, event in enumerate(events, start=1):
        asyncio.run(_publish_one(bootstrap, event))
        done = lambda n=number: sum(worker.outcomes("link").values()) >= n  # noqa: E731
        assert poll(done, 60, every=0.05), worker.process.tail()


@pytest.mark.parametrize("killed_in_the_move", [False, True], ids=["moved", "killed-in-the-move"])
def test_a_worker_moved_from_the_faust_agent_to_the_loop_publishes_replays_records(
    killed_in_the_move: bool, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    bootstrap = own_kafka.bootstrap
    events = _council(160)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    half = len(events) // 2

    worker = LiveWorker(bootstrap, tmp_path)  # MASH_LINK_STAGE=faust: the default
    worker.process.env["MASH_LINK_STAGE"] = "faust"
    worker.process.start()
    try:
        _link_one_by_one(bootstrap, worker, events[:half])
    finally:
        worker.process.stop()
    app_id = worker.process.env["MASH_APP_ID"]
    assert asyncio.run(_count(bootstrap, changelog_topic(app_id, "identity"), "read_committed"))
    state = link_state_topic(app_id).name

    worker.process.env["MASH_LINK_STAGE"] = "loop"
    if killed_in_the_move:
        env = worker.process.env | {"CRASH_HOW": "migration"}
        crashing = WorkerProcess(env, tmp_path / "crashing.log", CRASHING_WORKER)
        crashing.start()
        assert poll(lambda: not crashing.alive(), 180, every=0.2), crashing.tail()
        assert MIGRATION_MARKER in crashing.log.read_text(), crashing.tail()
        assert asyncio.run(_count(bootstrap, state, "read_uncommitted")) > 0  # sent
        assert asyncio.run(_count(bootstrap, state, "read_committed")) == 0  # never committed

    worker.process.start()
    try:
        _link_one_by_one(bootstrap, worker, events[half:])
        assert MOVED in worker.process.log.read_text()
        worker.floor.write_text(until.isoformat())
        live = settled_outputs(lambda: asyncio.run(_outputs(bootstrap)), 240, set(replayed))
        assert live is not None, worker.process.tail()
        _assert_same(live, replayed, tmp_path, worker)
    finally:
        worker.process.stop()
