"""Every rule of rules.md, as pure functions over a child's picture.

Entry points (the live worker and replay call the same ones, with time passed in):

- `process(picture, event, *, child_id, link_note, now, config) -> Outcome`: one event
  for one child: the new picture, and what it decided, in publication order
  (disclosures, alerts, feedback), never where it goes (the pipeline routes it).
  Deadlines start as timers in the picture.
- `fire_due(picture, *, before, inclusive, config) -> Outcome`: the timers due strictly
  before `before` (at or before it when `inclusive`, for replay's `--until`) fire, each
  only if what was due has not arrived.
- `identity_review_alert(...)`: the IDENTITY_REVIEW alert, for the link stage.

One module per rule family: sharing (UNSHARED_RISK, CONSENT_DECISION_REQUIRED),
decision (DECISION_OVERDUE), referral (REFERRAL_INCOMPLETE), info_request
(RELEVANT_AGENCY_OMITTED), cumulative (CUMULATIVE_CONCERNS, CUMULATIVE_NEGLECT,
REPEAT_MISSING), school (SCHOOL_FILE_NOT_TRANSFERRED, ENCOMPASS_SCHOOL_UNKNOWN),
exploitation (EXPLOITATION_SCREENING_OVERDUE, THRESHOLD_REVIEW), strategy
(STRATEGY_DISCUSSION_OVERDUE, STRATEGY_MEETING_INCOMPLETE), identity (IDENTITY_REVIEW),
language_review (feedback on victim-blaming language).
"""

from broker.rules.base import Outcome, Output
from broker.rules.identity import identity_review_alert
from broker.rules.process import process
from broker.rules.timers import fire_due

__all__ = ["Outcome", "Output", "fire_due", "identity_review_alert", "process"]
