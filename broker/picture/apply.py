"""Updating a child's picture with one event: state only, no decisions.

`apply` is pure (it returns a new picture); `apply_in_place` is what a step that already
works on its own copy uses. The order of events is the order they are processed in:
the latest social care record replaces the earlier, an agency's latest involvement is
its current one, a later event with the same transition_id updates the move.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from broker.config.minimisation import IDENTIFIERS
from broker.models import (
    AgencyInvolvement,
    Event,
    HealthUpdate,
    MashDecision,
    MashScreening,
    PoliceVist,
    SchoolTransition,
    SocialCareRecord,
    StrategyMeeting,
    Subject,
    YotReferral,
)
from broker.models.built import built
from broker.picture.clone import clone
from broker.picture.derived import is_risk_event, is_significant_harm
from broker.picture.model import (
    FORGOTTEN_KEPT,
    ChildPicture,
    DecisionMade,
    EventSummary,
    Identity,
    Involvement,
    MeetingHeld,
    ScreeningDone,
    SocialCare,
    Transition,
)

CHRONOLOGY_TYPES = (PoliceVist, YotReferral, HealthUpdate, SchoolTransition)
"""Events kept in the chronology (and shareable by a later MASH decision)."""


def new_picture(child_id: str) -> ChildPicture:
    return ChildPicture(child_id=child_id)


def apply(picture: ChildPicture | None, event: Event, *, child_id: str = "") -> ChildPicture:
    """The picture after `event`; the given picture is left as it was."""
    work = clone(picture) if picture else new_picture(child_id)
    apply_in_place(work, event)
    return work


def apply_in_place(picture: ChildPicture, event: Event) -> bool:
    """Update `picture` with `event`; False (and nothing changed) if already applied."""
    if picture.applied(event.event_id):
        return False
    picture.seq += 1
    picture.processed[event.event_id] = event.recorded_at
    _update_identity(picture, event.subject)
    if isinstance(event, SocialCareRecord):
        _record(picture, event)
    elif isinstance(event, AgencyInvolvement):
        picture.involvements[event.agency.value] = Involvement(
            agency=event.agency,
            status=event.status,
            team=event.team,
            school=event.school,
            since=event.occurred_at,
            event_id=event.event_id,
            seq=picture.seq,
        )
    elif isinstance(event, MashDecision):
        picture.decisions.append(_decision(picture, event))
    elif isinstance(event, MashScreening):
        picture.screenings.append(
            ScreeningDone(
                event_id=event.event_id,
                screening_id=event.screening_id,
                outcome=event.outcome,
                refers_to=event.refers_to,
                recorded_at=event.recorded_at,
            )
        )
    elif isinstance(event, StrategyMeeting):
        picture.meetings.append(
            MeetingHeld(
                event_id=event.event_id,
                meeting_id=event.meeting_id,
                held_at=event.held_at,
                attendees=list(event.attendees),
                refers_to=event.refers_to,
                recorded_at=event.recorded_at,
            )
        )
    if isinstance(event, SchoolTransition):
        _transition(picture, event)
    if isinstance(event, CHRONOLOGY_TYPES):
        picture.events.append(summarise(event))
    return True


def summarise(event: PoliceVist | YotReferral | HealthUpdate | SchoolTransition) -> EventSummary:
    """The chronology entry for an event, with the derived flags of events.md.

    Built without validation (`built`): every value comes from the event,
    validated at ingest, and `body` is its JSON form just made; validating the body
    again walked every value of it, once per chronology event. Every field is given
    (`told` too): pydantic's `model_construct` inspects a default factory's signature
    each time it calls one, which costs more than the validation saved."""
    return built(
        EventSummary,
        event_id=event.event_id,
        event_type=event.event_type,
        source_agency=event.source.agency,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        rag=event.rag if isinstance(event, PoliceVist) else None,
        kind=event.kind if isinstance(event, HealthUpdate) else None,
        risk_level=event.risk_level if isinstance(event, YotReferral) else None,
        concerns=list(getattr(event, "concerns", [])),
        risk=is_risk_event(event),
        significant_harm=is_significant_harm(event),
        consent=event.consent.status,
        told=[],
        body=event.model_dump(mode="json", exclude={"subject"}),
    )


def prune(picture: ChildPicture, now: datetime, keep_days: int) -> None:
    """Forget what is older than `keep_days` before `now` (on occurred_at for the
    chronology, recorded_at for the rest), except what a running deadline still needs.
    The rules' longest window is shorter than `keep_days` (the configuration checks)."""
    horizon = now - timedelta(days=keep_days)
    # Each container is rebuilt only when something in it is old: most pictures hold
    # nothing older than the horizon, and this runs on every event.
    if any(e.occurred_at < horizon for e in picture.events):
        needed = {t.event_id for t in picture.timers}
        picture.events = [
            e for e in picture.events if e.occurred_at >= horizon or e.event_id in needed
        ]
    if any(d.recorded_at < horizon for d in picture.decisions):
        picture.decisions = [d for d in picture.decisions if d.recorded_at >= horizon]
    if any(s.recorded_at < horizon for s in picture.screenings):
        picture.screenings = [s for s in picture.screenings if s.recorded_at >= horizon]
    if any(m.recorded_at < horizon for m in picture.meetings):
        picture.meetings = [m for m in picture.meetings if m.recorded_at >= horizon]
    if any(a.raised_at < horizon for a in picture.alerts):
        picture.alerts = [a for a in picture.alerts if a.raised_at >= horizon]
    if picture.processed and min(picture.processed.values()) < horizon:  # a scan in C
        gone = [k for k, v in picture.processed.items() if v < horizon]
        picture.processed = {k: v for k, v in picture.processed.items() if v >= horizon}
        picture.forgotten = [*picture.forgotten, *gone][-FORGOTTEN_KEPT:]
    if any(due < horizon for due in picture.fired.values()):
        picture.fired = {k: due for k, due in picture.fired.items() if due >= horizon}
    if not picture.transitions:
        return
    kept = set(picture.processed)
    running = {t.transition_id for t in picture.timers}
    # the latest move gives the current school, however old
    running.add(max(picture.transitions.values(), key=lambda t: t.seq).transition_id)
    picture.transitions = {
        k: t
        for k, t in picture.transitions.items()
        if k in running or any(e in kept for e in t.event_ids)
    }


def _update_identity(picture: ChildPicture, subject: Subject) -> None:
    current = picture.identity
    known = dict(current.identifiers) if current else {}
    for name in IDENTIFIERS:
        value = getattr(subject, name)
        if value:
            known[name] = value
    postcode = subject.postcode or (current.postcode if current else None)
    if (
        current is not None
        and current.given_name == subject.given_name
        and current.family_name == subject.family_name
        and current.date_of_birth == subject.date_of_birth
        and current.identifiers == known
        and current.postcode == postcode
    ):
        return  # the same child as described before (most events): keep the frozen part
    picture.identity = built(
        Identity,  # the validated subject's values, all given
        given_name=subject.given_name,
        family_name=subject.family_name,
        date_of_birth=subject.date_of_birth,
        identifiers=known,
        postcode=postcode,
    )


def _record(picture: ChildPicture, event: SocialCareRecord) -> None:
    picture.socialcare = SocialCare(
        socialcare_id=event.subject.socialcare_id or "",
        status=event.status,
        status_since=event.status_since,
        allocated_worker=event.allocated_worker,
        previous_referrals=list(event.previous_referrals),
        event_id=event.event_id,
    )


def _transition(picture: ChildPicture, event: SchoolTransition) -> None:
    earlier = picture.transitions.get(event.transition_id)
    picture.transitions[event.transition_id] = Transition(
        transition_id=event.transition_id,
        from_school=event.from_school,
        to_school=event.to_school,
        leave_date=event.leave_date,
        start_date=event.start_date,
        cp_file_exists=event.cp_file_exists,
        cp_file_transferred_at=event.cp_file_transferred_at
        or (earlier.cp_file_transferred_at if earlier else None),
        receipt_confirmed_at=event.receipt_confirmed_at
        or (earlier.receipt_confirmed_at if earlier else None),
        event_ids=[*(earlier.event_ids if earlier else []), event.event_id],
        seq=earlier.seq if earlier else picture.seq,
    )


def _decision(picture: ChildPicture, event: MashDecision) -> DecisionMade:
    target: str | None = None
    if picture.event(event.refers_to) is not None:
        target = event.refers_to
    elif (alert := picture.alert(event.refers_to)) is not None:
        target = alert.event_id
    return built(
        DecisionMade,  # the validated event's values, every field given
        event_id=event.event_id,
        decision_id=event.decision_id,
        refers_to=event.refers_to,
        target_event_id=target,
        decision=event.decision,
        share_with=list(event.share_with),
        decided_by=event.decided_by,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
    )
