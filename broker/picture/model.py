"""The child's picture: everything the broker knows about one child across agencies.

Inspectors found that nobody joined up what each agency held: the police decided on
police information alone, historic concerns were not analysed. The picture is that
join: the latest identity, the social care record, who is involved, the current school,
a compact history of what happened (without narratives), the MASH's decisions,
screenings and strategy meetings, and the deadlines still running.

It is plain data: a pydantic model that round-trips through JSON, because the live
worker keeps it in a changelog-backed table keyed by child id, and replay keeps it in a
dict. Nothing here decides anything; `broker.picture.apply` updates it, the policy and
rules read it.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from broker.models import (
    Agency,
    AllocatedWorker,
    Concern,
    ConsentStatus,
    DecisionKind,
    HealthKind,
    InvolvementStatus,
    Rag,
    RiskLevel,
    RuleId,
    School,
    ScreeningOutcome,
    SocialCareStatus,
)
from broker.models.common import Timestamp

FORGOTTEN_KEPT = 32
"""How many event ids a picture still knows as applied after `prune` forgot them. Enough
for a redelivery of a few seconds (a worker stopped before its offset was committed),
not for one of minutes (faust's committed offsets of broker.linked.v1 trailed that far
with the link loop until broker.kafka.transport fixed faust's gaps): the live child
stage recognises any redelivery by the picture's `last_message` as well
(docs/notes/faust-kafka.md)."""


class _Part(BaseModel):
    """Parts of the picture: frozen, so that a step's working copy of a picture can share
    them with the picture it was made from (broker.picture.clone.working_copy). A step
    changes a part by replacing it; the one list changed in place, an event's `told`, is
    changed only on the step's own copy of that event (`ChildPicture.own_event`)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False, frozen=True)


class Identity(_Part):
    """The child as most recently described, with every identifier any agency gave."""

    given_name: str
    family_name: str
    date_of_birth: date
    identifiers: dict[str, str] = Field(default_factory=dict)
    """nhs_number, upn, socialcare_id, police_person_id: the latest value of each."""
    postcode: str | None = None


class SocialCare(_Part):
    """The latest `socialcare.record` for the child (it replaces the earlier one)."""

    socialcare_id: str
    status: SocialCareStatus
    status_since: date
    allocated_worker: AllocatedWorker | None = None
    previous_referrals: list[date] = Field(default_factory=list)
    event_id: str


class Involvement(_Part):
    """An agency's latest `agency.involvement` for the child."""

    agency: Agency
    status: InvolvementStatus
    team: str
    school: School | None = None
    since: Timestamp
    event_id: str
    seq: int


class Transition(_Part):
    """A school move, as its latest event with this transition_id describes it."""

    transition_id: str
    from_school: School
    to_school: School
    leave_date: date
    start_date: date | None = None
    cp_file_exists: bool
    cp_file_transferred_at: Timestamp | None = None
    receipt_confirmed_at: Timestamp | None = None
    event_ids: list[str] = Field(default_factory=list)
    """Every event about this move, first one first."""
    seq: int
    """When the move was first heard of; the latest move is the one with the highest."""


class EventSummary(_Part):
    """One event of the child's chronology (police notice, referral, health update,
    school move): what the rules count and the policy shares.

    `body` is the event's own JSON form without the subject, kept so that a MASH
    `share` decision made later can send it, minimised, to the agencies it names.
    """

    event_id: str
    event_type: str
    source_agency: Agency
    occurred_at: Timestamp
    recorded_at: Timestamp
    rag: Rag | None = None
    kind: HealthKind | None = None
    risk_level: RiskLevel | None = None
    concerns: list[Concern] = Field(default_factory=list)
    risk: bool = False
    significant_harm: bool = False
    consent: ConsentStatus = ConsentStatus.not_sought
    told: list[Agency] = Field(default_factory=list)
    """Agencies told of it by the broker (notified) or as the hub (the MASH)."""
    body: dict[str, JsonValue] = Field(default_factory=dict)


class DecisionMade(_Part):
    event_id: str
    decision_id: str
    refers_to: str
    target_event_id: str | None = None
    """The event the decision is about (refers_to, or the event behind an alert)."""
    decision: DecisionKind
    share_with: list[Agency] = Field(default_factory=list)
    decided_by: str
    occurred_at: Timestamp
    recorded_at: Timestamp


class ScreeningDone(_Part):
    event_id: str
    screening_id: str
    outcome: ScreeningOutcome
    refers_to: str | None = None
    recorded_at: Timestamp


class MeetingHeld(_Part):
    event_id: str
    meeting_id: str
    held_at: Timestamp
    attendees: list[Agency] = Field(default_factory=list)
    refers_to: str | None = None
    recorded_at: Timestamp


class Timer(_Part):
    """A deadline still running: what is due, by when, for which event, and what would
    resolve it. It fires (raises its alert) only if it is still here at `due`."""

    key: str
    """Unique per deadline, e.g. `DECISION_OVERDUE:<event_id>`."""
    rule_id: RuleId
    due: Timestamp
    event_id: str
    """The event the deadline is for (a risk event, a school move, a MASH decision)."""
    resolved_by: str
    """What stops it, in words (for operators reading the table)."""
    link_note: str = ""
    transition_id: str | None = None


class RaisedAlert(_Part):
    """An alert already published: it is published once, and a decision may name it."""

    alert_id: str
    rule_id: RuleId
    event_id: str
    """The first of its triggered_by."""
    raised_at: Timestamp


class MessagePosition(_Part):
    """Where a message of broker.linked.v1 was: its partition and offset."""

    partition: int
    offset: int


class ChildPicture(BaseModel):
    """Everything known about one child; see the module docstring. Not frozen: a step
    changes its own working copy's fields (lists and dicts of parts) as it goes."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    child_id: str
    identity: Identity | None = None
    socialcare: SocialCare | None = None
    involvements: dict[str, Involvement] = Field(default_factory=dict)
    """Keyed by agency."""
    transitions: dict[str, Transition] = Field(default_factory=dict)
    """Keyed by transition_id."""
    events: list[EventSummary] = Field(default_factory=list)
    """The chronology, in the order processed; at least the trailing `history_days`."""
    decisions: list[DecisionMade] = Field(default_factory=list)
    screenings: list[ScreeningDone] = Field(default_factory=list)
    meetings: list[MeetingHeld] = Field(default_factory=list)
    timers: list[Timer] = Field(default_factory=list)
    fired: dict[str, Timestamp] = Field(default_factory=dict)
    """Key -> due of every timer that has fired (a fired deadline is never set again)."""
    alerts: list[RaisedAlert] = Field(default_factory=list)
    threshold_review_last: Timestamp | None = None
    """occurred_at of the event that last raised THRESHOLD_REVIEW."""
    processed: dict[str, Timestamp] = Field(default_factory=dict)
    """event_id -> recorded_at of every event applied (an event is applied once)."""
    forgotten: list[str] = Field(default_factory=list)
    """The last `FORGOTTEN_KEPT` event ids that `prune` took out of `processed`, oldest
    first: still applied once (see `applied`)."""
    seq: int = 0
    """How many events have been applied: orders `latest` without trusting clocks."""
    last_message: MessagePosition | None = None
    """The live worker's child stage only (None in replay): the position in
    broker.linked.v1 of the last message it handled for this child when it stored this
    picture, in the same table record. A message of the child at or before it is Kafka
    delivering again what was handled (agents.child): `applied` cannot tell that for
    events older than the last `FORGOTTEN_KEPT` forgotten ones, and a committed offset
    can trail by more than a few seconds (faust's of broker.linked.v1 trailed by
    minutes before broker.kafka.transport fixed its gaps: docs/notes/faust-kafka.md)."""

    # -- look-ups ----------------------------------------------------------------------

    def applied(self, event_id: str) -> bool:
        """Whether the event was applied to this picture already: in `processed`, or
        among the ids pruned from it last. `processed` forgets an event by its
        `recorded_at`; an event applied long after it was recorded (a backlog, or the
        clock far past the sender's time: a valid event dated years ahead moves the
        event clock there) is forgotten in the very step that applies it. The worker's
        child stage is at-least-once: a message Kafka delivers again after a crash
        would then be applied twice (`python -m bench.chaos --seed 2` found it)."""
        return event_id in self.processed or event_id in self.forgotten

    def event(self, event_id: str) -> EventSummary | None:
        # a plain loop, not next() over a generator: the rules look events up on every
        # deadline and decision, and a generator's resumptions cost more than the test
        for summary in self.events:
            if summary.event_id == event_id:
                return summary
        return None

    def own_event(self, event_id: str) -> EventSummary | None:
        """The event's summary as this picture's own copy, to change its `told` in place:
        a working copy shares its parts with the picture it was made from, which must
        stay as it was."""
        for i, summary in enumerate(self.events):
            if summary.event_id == event_id:
                own = summary.model_copy(update={"told": list(summary.told)})
                self.events[i] = own
                return own
        return None

    def alert(self, alert_id: str) -> RaisedAlert | None:
        return next((a for a in self.alerts if a.alert_id == alert_id), None)

    def timer(self, key: str) -> Timer | None:
        return next((t for t in self.timers if t.key == key), None)

    def next_due(self) -> datetime | None:
        """When the earliest running deadline falls due (None: nothing running)."""
        return min((t.due for t in self.timers), default=None)
