"""What a refusal publishes: the rejected record, and feedback the sender can act on.

Nothing is ever dropped. The rejected record keeps the original bytes, so that a fixed
publisher (or an operator) can replay it (an input over the event size limit by
reference: its first bytes, size and SHA-256, or the record could not be sent); the
feedback goes to the sending agency when its agency can be read from the bytes at all.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from broker.errors import Problem
from broker.models.ids import stable_id
from broker.models.outputs import Feedback, ProblemOut, Rejected
from broker.models.text import KEPT_ORIGINAL_BYTES, MAX_EVENT_BYTES, MAX_REASONS
from broker.pipeline.ingest import Refused
from broker.pipeline.records import OutRecord
from broker.topics import REJECTED, feedback_topic


def rejection_records(refused: Refused, now: datetime) -> list[OutRecord]:
    reasons = _reasons(refused.problems)
    rejection_id = stable_id("rej", refused.topic or "", refused.raw)
    key = refused.event_id or rejection_id
    raw = refused.raw
    rejected = Rejected(
        rejection_id=rejection_id,
        event_id=refused.event_id,
        source_agency=refused.source_agency,
        topic=refused.topic,
        reasons=reasons,
        original=raw if len(raw) <= MAX_EVENT_BYTES else raw[:KEPT_ORIGINAL_BYTES],
        rejected_at=now,
        original_size=len(raw),
        original_sha256=hashlib.sha256(raw).hexdigest(),
    )
    records = [OutRecord(REJECTED.name, key, rejected)]
    if refused.source_agency is not None:
        feedback = Feedback(
            feedback_id=stable_id("fb", rejection_id),
            event_id=refused.event_id,
            to_agency=refused.source_agency,
            kind="rejected",
            problems=reasons,
            created_at=now,
        )
        records.append(OutRecord(feedback_topic(refused.source_agency), key, feedback))
    return records


def _reasons(problems: tuple[Problem, ...]) -> list[ProblemOut]:
    """Every problem, up to MAX_REASONS: a hostile input can have thousands, and the
    record that lists them must stay small; the last reason counts the rest."""
    reasons = [ProblemOut(field=p.field, message=p.message) for p in problems]
    if len(reasons) <= MAX_REASONS:
        return reasons
    more = len(reasons) - MAX_REASONS + 1
    return [*reasons[: MAX_REASONS - 1], ProblemOut(field="payload", message=f"and {more} more")]


def failure_records(raw: bytes, topic: str | None, now: datetime, error: str) -> list[OutRecord]:
    """A message the broker failed to process because of its own fault (a bug).

    It is kept on the rejected topic with its bytes, like any rejection, so that it can be
    replayed once the fault is fixed; the reason names the fault's class, not the data.
    """
    reason = Problem(
        "broker",
        f"the broker could not process this message ({error}); it is kept for an operator "
        "to replay once the fault is fixed",
    )
    return rejection_records(Refused((reason,), raw, topic), now)
