"""The ingest stage as a loop (MASH_INGEST_STAGE=loop) on the real Kafka.

The council's stream through a worker whose ingest is the loop publishes exactly what
replay does (tests/integration/test_ingest_worker.py runs the rejection, de-duplication
and kill tests against it too). And a worker switched from the faust agent to the loop
(stopped, switched, started: deploy/README.md) carries on where the agent was: the
loop's group has no offsets, so it starts at the agent's committed ones, skipping no
inbound message and reading again only what the agent handled after its last commit
(at least once: the same records again). A re-read would not show in the linked stream
(the link stage drops a second accepted event as a duplicate), so the test counts what
ingest decided: the second half, and at most a few of the first (from the beginning it
would be all of them); and the outputs are replay's, each once.
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
from tests.integration.test_operations import poll


def _decided(worker: LiveWorker) -> float:
    """Inbound messages this worker process has decided. Polled, not read once: ingest
    counts a batch once its records are acknowledged, and the link stage may link one
    of them (and count it) before ingest's count is taken (CI saw it one short)."""
    return sum(worker.outcomes("ingest").values())


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
        assert poll(lambda: _decided(worker) == half, 30), worker.process.tail()
    finally:
        worker.process.stop()

    worker.process.env["MASH_INGEST_STAGE"] = "loop"
    worker.process.start()
    try:
        rest = events[half:]
        _link_one_by_one(bootstrap, worker, rest)  # link outcomes of this process: the rest
        assert poll(lambda: _decided(worker) >= len(rest), 30), worker.process.tail()
        again = _decided(worker) - len(rest)  # the agent's last uncommitted messages, if any
        assert again <= half // 2, f"{again} of the first {half} read again"
        assert "ingest loop starts where the faust agent was" in worker.process.log.read_text()
        worker.floor.write_text(until.isoformat())
        live = settled_outputs(lambda: asyncio.run(_outputs(bootstrap)), 240, set(replayed))
        assert live is not None, worker.process.tail()
        _assert_same(live, replayed, tmp_path, worker)
        assert _decided(worker) == len(rest) + again  # none read again since
    finally:
        worker.process.stop()
