"""Deadlines: firing the timers that are due.

The four deadline rules (DECISION_OVERDUE, SCHOOL_FILE_NOT_TRANSFERRED,
EXPLOITATION_SCREENING_OVERDUE, STRATEGY_DISCUSSION_OVERDUE) are timers kept in the
child's picture. They fire on the broker's clock: the wall clock in the live worker;
in a replay, before each event every timer due strictly before its recorded_at (so what
arrives exactly at its deadline is in time), and at the end every timer due at or before
`--until`. A timer whose cause was resolved was removed when the resolution arrived, so
a deadline met in time never fires; each rule checks again when it fires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from broker.config.partnership import PartnershipConfig
from broker.models import RuleId
from broker.picture.clone import working_copy
from broker.picture.model import ChildPicture, Timer
from broker.rules import decision, exploitation, school, strategy
from broker.rules.base import Context, Outcome, Output

FIRERS: Final[dict[RuleId, Callable[[Context, Timer], list[Output]]]] = {
    RuleId.DECISION_OVERDUE: decision.fire,
    RuleId.SCHOOL_FILE_NOT_TRANSFERRED: school.fire_file,
    RuleId.EXPLOITATION_SCREENING_OVERDUE: exploitation.fire_screening,
    RuleId.STRATEGY_DISCUSSION_OVERDUE: strategy.fire,
}


def fire_due(
    picture: ChildPicture, *, before: datetime, inclusive: bool = False, config: PartnershipConfig
) -> Outcome:
    """Fire the picture's timers due strictly before `before` (at or before it when
    `inclusive`), earliest first; the picture given is left as it was."""
    work = working_copy(picture)
    return Outcome(work, fire_in_place(work, before=before, inclusive=inclusive, config=config))


def fire_in_place(
    picture: ChildPicture, *, before: datetime, inclusive: bool, config: PartnershipConfig
) -> list[Output]:
    # On every event and tick: most pictures have no timer, or none due yet.
    due = [t for t in picture.timers if t.due < before or (inclusive and t.due == before)]
    if not due:
        return []
    due.sort(key=lambda t: (t.due, t.key))
    alerts: list[Output] = []
    for timer in due:
        picture.timers = [t for t in picture.timers if t.key != timer.key]
        picture.fired[timer.key] = timer.due
        ctx = Context(picture, config, now=timer.due, link_note=timer.link_note)
        alerts += FIRERS[timer.rule_id](ctx, timer)
    return alerts
