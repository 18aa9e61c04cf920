"""One event for one child: update the picture, share, alert, give feedback.

The order is the order rules.md implies: the event joins the picture (a child's status
and involvements are those known when it is processed); the automatic shares go out
(so "has been told" includes them); then the alerts that fire at once, and the deadlines
that start; then feedback to the publisher. Records come back in publication order:
notifications with their audit records, alerts, feedback.
"""

from __future__ import annotations

from datetime import datetime

from broker.config.partnership import PartnershipConfig
from broker.models import (
    Agency,
    DecisionKind,
    Event,
    MashDecision,
    MashInfoRequest,
    MashScreening,
    PoliceVist,
    SchoolTransition,
    SocialCareRecord,
    StrategyMeeting,
    YotReferral,
)
from broker.picture.apply import CHRONOLOGY_TYPES, apply_in_place, new_picture, prune
from broker.picture.clone import working_copy
from broker.picture.model import ChildPicture, EventSummary
from broker.policy.disclose import disclose
from broker.policy.shares import Share, automatic_shares, decision_shares
from broker.rules import (
    cumulative,
    decision,
    exploitation,
    info_request,
    referral,
    school,
    sharing,
    strategy,
)
from broker.rules.base import Context, Outcome, Output
from broker.rules.language_review import language_feedback
from broker.rules.timers import fire_in_place


def process(
    picture: ChildPicture | None,
    event: Event,
    *,
    child_id: str,
    link_note: str,
    now: datetime,
    config: PartnershipConfig,
) -> Outcome:
    """The child's picture after `event`, and everything decided on it.

    Pure: the picture given is not changed. An event already applied gives no outputs
    (it was processed; they were published then), even once pruned (`applied`).
    Timers due strictly before `now` fire first, so a picture is never behind its clock.
    """
    work = working_copy(picture) if picture is not None else new_picture(child_id)
    if work.applied(event.event_id):
        return Outcome(work, [])
    fired = fire_in_place(work, before=now, inclusive=False, config=config)
    ctx = Context(work, config, now, link_note, event)
    apply_in_place(work, event)
    shared: list[Output] = []
    alerts: list[Output] = []
    # the event's summary, which apply_in_place has just appended (the event was not
    # applied before): made for this step, its own to change. Not looked up by id: that
    # walked the child's whole chronology on every event.
    summary = work.events[-1] if isinstance(event, CHRONOLOGY_TYPES) else None
    if summary is not None:
        shared += _share(ctx, summary, automatic_shares(work, summary, config))
        alerts += _chronology_rules(ctx, event, summary)
    elif isinstance(event, MashDecision):
        shared += _on_decision(ctx, event)
    elif isinstance(event, MashScreening):
        exploitation.on_screening(ctx, event)
    elif isinstance(event, StrategyMeeting):
        strategy.on_meeting(ctx, event)
        alerts += strategy.incomplete(ctx, event)
    elif isinstance(event, MashInfoRequest):
        alerts += info_request.check(ctx, event)
    elif isinstance(event, SocialCareRecord):
        alerts += exploitation.threshold_review_at(ctx, event.event_id, event.occurred_at)
    feedback = language_feedback(event, config.language, now)
    prune(work, now, config.thresholds.history_days)
    return Outcome(work, [*fired, *shared, *alerts, *feedback])


def _share(ctx: Context, summary: EventSummary, shares: list[Share]) -> list[Output]:
    """Send each share and remember who has been told."""
    disclosures: list[Output] = []
    if summary.risk and Agency.mash not in summary.told:
        summary.told.append(Agency.mash)  # the hub: told, but not a disclosure
    for share in shares:
        disclosures.append(disclose(share, summary, ctx.picture, config=ctx.config, now=ctx.now))
        if share.to_agency not in summary.told:
            summary.told.append(share.to_agency)
    return disclosures


def _chronology_rules(ctx: Context, event: Event, summary: EventSummary) -> list[Output]:
    alerts, raised_unshared = sharing.check(ctx, summary)
    decision.start(ctx, summary, raised_unshared)
    if isinstance(event, PoliceVist):
        alerts += school.encompass_school_unknown(ctx, event)
    if isinstance(event, YotReferral):
        alerts += referral.check(ctx, event)
    if isinstance(event, SchoolTransition):
        school.on_transition(ctx, event)
    alerts += cumulative.check(ctx, summary)
    alerts += exploitation.threshold_review(ctx, summary)
    exploitation.on_risk_event(ctx, summary)
    return alerts


def _on_decision(ctx: Context, event: MashDecision) -> list[Output]:
    made = next(d for d in ctx.picture.decisions if d.event_id == event.event_id)
    decision.resolve(ctx, made.target_event_id)
    strategy.on_decision(ctx, event)
    if made.decision != DecisionKind.share or made.target_event_id is None:
        return []
    summary = ctx.picture.own_event(made.target_event_id)  # its `told` changes
    if summary is None:
        return []
    return _share(ctx, summary, decision_shares(made, summary))
