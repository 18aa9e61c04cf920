"""The ingest stage as a loop (MASH_INGEST_STAGE=loop) on the real Kafka.

The council's stream through a worker whose ingest is the loop publishes exactly what
replay does (tests/integration/test_ingest_worker.py runs the rejection, de-duplication
and kill tests against it too). And a worker switched from the faust agent to the loop
(stopped, switched, started: deploy/README.md) carries on where the agent was: the
loop's group has no offsets, so it starts at the agent's, neither skipping an inbound
message nor reading one again. A re-read would not show in the linked stream (the link
stage drops a second accepted event as a duplicate), so the test counts what ingest
decided: the second half, and nothing of the first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from broker.kafka.local import LocalKafka
from tests.integration.test_link_loop_killed import _outputs
from tests.integration.test_link_loop_migration import _link_one_by_one
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _a_fortnight_after,
    _assert_same,
    _council,
    _replayed,
    check_stream,
    settled_outputs,
)


def test_the_councils_stream_through_the_ingest_loop_is_what_replay_publishes(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    events = _council(200)
    check_stream(
        own_kafka.bootstrap,
        tmp_path,
        events,
        _a_fortnight_after(events),
        {"MASH_INGEST_STAGE": "loop"},
    )


def test_a_worker_switched_to_the_ingest_loop_starts_where_the_agent_was(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    bootstrap = own_kafka.bootstrap
    events = _council(120)
    until = _a_fortnight_after(events)
    replayed = _replayed(events, until)
    half = len(events) // 2

    worker = LiveWorker(bootstrap, tmp_path)
    worker.process.env["MASH_INGEST_STAGE"] = "faust"
    worker.process.start()
    try:
        _link_one_by_one(bootstrap, worker, events[:half])
        assert sum(worker.outcomes("ingest").values()) == half
    finally:
        worker.process.stop()

    worker.process.env["MASH_INGEST_STAGE"] = "loop"
    worker.process.start()
    try:
        rest = events[half:]
        _link_one_by_one(bootstrap, worker, rest)  # link outcomes of this process: the rest
        assert sum(worker.outcomes("ingest").values()) == len(rest), worker.process.tail()
        assert "ingest loop starts where the faust agent was" in worker.process.log.read_text()
        worker.floor.write_text(until.isoformat())
        live = settled_outputs(lambda: asyncio.run(_outputs(bootstrap)), 240, set(replayed))
        assert live is not None, worker.process.tail()
        _assert_same(live, replayed, tmp_path, worker)
        assert sum(worker.outcomes("ingest").values()) == len(rest)  # none read again since
    finally:
        worker.process.stop()
