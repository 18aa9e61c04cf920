"""The link loop killed before committing a batch that holds a person's merge decisions:
after a restart, exactly replay's records, none lost and none twice.

A merge is the link stage's most involved batch. A person decides that two children
are one (`mash.identity_decision`, `same_child`). The loop merges them in its index and
sends three messages on broker.linked.v1: the survivor is told to wait, the merged
child hands its picture over, and the decision's own event follows. The child stage
then moves the merged child's chronology to the survivor. Killed after those messages
are sent and acknowledged, before the commit, the transaction is left open. The next
owner aborts it and merges again from the state committed before the batch. What must
not happen:
- the merge lost;
- a picture moved twice;
- the survivor told to wait by a message no one commits.

The crashing worker (tests/integration/crashing_worker.py, `CRASH_HOW=loop`,
`CRASH_ON_OUTCOME=identity_decision`) kills itself in the first batch that holds a
decision. The decisions are published only once every notice is linked, so the batch is
the decisions'. After the restart, notices about the survivors follow: their alerts
carry the merged chronologies, so a merge done wrong would show in them.
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from broker.calendar.clock import ManualClock
from broker.kafka.local import LocalKafka
from broker.models.internal import ChildMessage, ChildMessageKind
from broker.pipeline.engine import replay_lines
from broker.topics import LINKED
from tests.integration.crashing_worker import LOOP_MARKER
from tests.integration.test_batch_killed_half_sent import _police_notices, _publish_all
from tests.integration.test_link_loop_killed import (
    _caught_up,
    _count,
    assert_replays_at_least_once,
    assert_replays_once,
    outputs_once_settled,
)
from tests.integration.test_link_loop_worker import loop_worker
from tests.integration.test_live_equals_replay import (
    LiveWorker,
    _publish_one,
    _replayed,
)
from tests.integration.test_operations import poll
from tests.integration.worker import CRASHING_WORKER, WorkerProcess

PAIRS = [  # (the child as one agency knows them, the same child as another knew them)
    (("Kit", "Harper", "2014-02-02", "PL1 1AA"), ("Christopher", "Jones", "2014-02-20", "EX4 9ZZ")),
    (("Noor", "Begum", "2013-07-09", "PL5 3QT"), ("Sami", "Haddad", "2013-09-07", "TR1 2HE")),
    (("Theo", "Marsh", "2012-01-15", "PL6 8NB"), ("Lewis", "Grant", "2012-05-11", "EX2 4JS")),
    (("Ruby", "Okafor", "2015-10-30", "PL2 2PD"), ("Esme", "Clarke", "2015-03-10", "TQ1 3RL")),
]


def _at(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def _notice(template: dict[str, Any], event_id: str, who: tuple[str, ...], at: datetime) -> Any:
    given, family, born, postcode = who
    return {
        **template,
        "event_id": event_id,
        "vist_id": f"V-{event_id}",
        "occurred_at": _at(at - timedelta(hours=2)),
        "recorded_at": _at(at),
        "subject": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "postcode": postcode,
        },
        "rag": "RED",
        "concerns": ["online_harm"],
        "narrative": "Seen late at night with older youths.",
    }


def _stream() -> tuple[list[Any], list[Any], list[Any]]:
    """(the notices, the decisions, the notices after them), each in time order."""
    notices = _police_notices(200)
    template = notices[0]
    start = max(datetime.fromisoformat(e["recorded_at"]) for e in notices) + timedelta(hours=1)
    decisions, after = [], []
    for n, (first, second) in enumerate(PAIRS):
        one, other = f"merge-a-{n}", f"merge-b-{n}"
        notices.append(_notice(template, one, first, start + timedelta(minutes=2 * n)))
        notices.append(_notice(template, other, second, start + timedelta(minutes=2 * n + 1)))
        decided = start + timedelta(days=1, minutes=n)
        decisions.append(
            {
                "event_id": f"merge-decision-{n}",
                "event_type": "mash.identity_decision",
                "source": {"agency": "mash", "system": "mash-page"},
                "occurred_at": _at(decided),
                "recorded_at": _at(decided),
                "subject": notices[-2]["subject"],
                "decision_id": f"ID-merge-{n}",
                "decision": "same_child",
                "child_ids": [_child_of(notices, one), _child_of(notices, other)],
                "rationale": "The school confirmed both records are the same pupil.",
                "decided_by": "Priya Shah",
            }
        )
        later = start + timedelta(days=2, minutes=n)
        after.append(_notice(template, f"merge-after-{n}", first, later))
    return notices, decisions, after


def _child_of(events: list[Any], event_id: str) -> str:
    """The child replay links `event_id` to (its id is derived from the stream)."""
    for record in replay_lines([_line(e) for e in events], ManualClock()):
        message = record.value
        if not isinstance(message, ChildMessage) or message.event is None:
            continue
        if message.event.event_id == event_id:
            return message.child_id
    raise AssertionError(f"{event_id} was not linked")


def _line(event: Any) -> bytes:
    return json.dumps(event).encode()


def _merges(events: list[Any], until: datetime) -> int:
    """How many children replay merges into another over the stream."""
    return sum(
        isinstance(record.value, ChildMessage) and record.value.kind == ChildMessageKind.merge_out
        for record in replay_lines([_line(e) for e in events], ManualClock(), until=until)
    )


def _linked_all(worker: LiveWorker, count: float) -> bool:
    return sum(worker.outcomes("link").values()) >= count


async def _publish_each(bootstrap: str, events: list[Any]) -> None:
    for event in events:
        await _publish_one(bootstrap, event)


@pytest.mark.parametrize("child_stage", ["loop", "faust"])
def test_a_loop_killed_before_committing_merge_decisions_leaves_exactly_replays_records(
    child_stage: str, own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """With the child stage as the loop (the default), which reads committed, and as the
    faust agent, which reads uncommitted: handed the aborted merges, it must still move
    each picture once (docs/identity.md, "The child stage as the faust agent")."""
    notices, decisions, after = _stream()
    everything = notices + decisions + after
    until = datetime.fromisoformat(after[-1]["recorded_at"]) + timedelta(days=14)
    replayed = _replayed(everything, until)
    assert _merges(everything, until) == len(PAIRS)  # each decision merges two children
    bootstrap = own_kafka.bootstrap

    worker = loop_worker(bootstrap, tmp_path)
    worker.process.env.update(
        MASH_LINK_BATCH_MAX="50",
        MASH_CHILD_STAGE=child_stage,
        CRASH_HOW="loop",
        CRASH_ON_OUTCOME="identity_decision",
    )
    asyncio.run(_publish_all(bootstrap, notices))
    crashing = WorkerProcess(worker.process.env, tmp_path / "crashing.log", CRASHING_WORKER)
    crashing.start()
    try:
        assert poll(lambda: _linked_all(worker, len(notices)), 180), crashing.tail()
        asyncio.run(_publish_each(bootstrap, decisions))  # now: their batch is theirs
        handed: list[float] = []  # merges the child stage took before the kill

        def died() -> bool:
            handed.append(worker.outcomes("child").get(ChildMessageKind.merge_out.value, 0))
            return not crashing.alive()

        assert poll(died, 120, every=0.2), crashing.tail()
    finally:
        crashing.stop(signal.SIGKILL)  # not left running past the test if it never died
    # read committed, the loop is never handed them; faust's agent is, and applies them
    assert (max(handed) > 0) == (child_stage == "faust"), handed
    assert LOOP_MARKER in crashing.log.read_text(), crashing.tail()
    uncommitted = asyncio.run(_count(bootstrap, LINKED.name, "read_uncommitted"))
    committed = asyncio.run(_count(bootstrap, LINKED.name, "read_committed"))
    assert committed < uncommitted  # the merges' messages, sent and never committed

    worker.process.start()  # a normal worker, on the same state directory
    try:
        assert poll(worker.ready, 120), worker.process.tail()
        looks: list[float] = []
        assert poll(lambda: _caught_up(worker, looks), 240, every=1.0), worker.process.tail()
        linked_before = sum(worker.outcomes("link").values())
        asyncio.run(_publish_each(bootstrap, after))  # about the survivors, merged
        assert poll(lambda: _linked_all(worker, linked_before + len(after)), 120)
        live = outputs_once_settled(worker, bootstrap, until, replayed)
    finally:
        worker.process.stop()
    if child_stage == "loop":
        assert_replays_once(live, replayed, tmp_path)
    else:  # at least once: a kill between its send and its save sends a batch again
        assert_replays_at_least_once(live, replayed, tmp_path)
