"""DECISION_OVERDUE: an event that needed a MASH decision has none by its deadline.

Inspectors found VISTs sent to the gateway that nobody reviewed, and green notices
neither reviewed nor shared. Needing a decision: every significant-harm event; every
AMBER or RED police notice; a GREEN one about a child with any agency involved; and
every event that raised UNSHARED_RISK or CONSENT_DECISION_REQUIRED. The deadline runs
from recorded_at: 4 working hours for a RED or significant-harm event, else 1 working
day (Working Together 2023: a decision within one working day). It is a timer: a
decision (a `mash.decision` naming the event or one of its alerts) that arrives by the
deadline stops it, and then nothing is ever raised.
"""

from __future__ import annotations

from datetime import datetime

from broker.config.partnership import PartnershipConfig
from broker.models import Agency, Rag, RuleId, Severity
from broker.picture.derived import agencies_involved, decisions_on, in_agency_order, not_yet_told
from broker.picture.model import EventSummary, Timer
from broker.picture.wording import agencies, chronology_line, describe, when
from broker.rules.base import Context, Output

RULE = RuleId.DECISION_OVERDUE


def timer_key(event_id: str) -> str:
    return f"{RULE.value}:{event_id}"


def urgent(summary: EventSummary) -> bool:
    """RED or significant harm: 4 working hours, high severity."""
    return summary.rag == Rag.RED or summary.significant_harm


def deadline(summary: EventSummary, config: PartnershipConfig) -> datetime:
    """When the MASH's decision on this event is due."""
    calendar, limits = config.calendar, config.deadlines
    if urgent(summary):
        return calendar.add_working_hours(summary.recorded_at, limits.decision_urgent_working_hours)
    return calendar.add_working_days(summary.recorded_at, limits.decision_working_days)


def needs_decision(ctx: Context, summary: EventSummary, raised_unshared: bool) -> bool:
    if not summary.risk and not summary.significant_harm:
        return False
    if summary.significant_harm or raised_unshared:
        return True
    if summary.event_type != "police.vist":
        return False
    if summary.rag in (Rag.AMBER, Rag.RED):
        return True
    return bool(agencies_involved(ctx.picture) - {Agency.mash})


def start(ctx: Context, summary: EventSummary, raised_unshared: bool) -> None:
    """Start the deadline if the event needs a decision and has none yet."""
    if not needs_decision(ctx, summary, raised_unshared):
        return
    if decisions_on(ctx.picture, summary.event_id):
        return
    ctx.set_timer(
        Timer(
            key=timer_key(summary.event_id),
            rule_id=RULE,
            due=deadline(summary, ctx.config),
            event_id=summary.event_id,
            resolved_by="a mash.decision whose refers_to is this event or one of its alerts",
            link_note=ctx.link_note,
        )
    )


def resolve(ctx: Context, event_id: str | None) -> None:
    """A decision arrived on `event_id`: its deadline stops."""
    if event_id is not None:
        ctx.clear_timer(timer_key(event_id))


def fire(ctx: Context, timer: Timer) -> list[Output]:
    picture = ctx.picture
    summary = picture.event(timer.event_id)
    if summary is None or decisions_on(picture, timer.event_id):
        return []
    unshared = in_agency_order(not_yet_told(picture, summary) - {summary.source_agency})
    severity = Severity.high if urgent(summary) else Severity.medium
    name, tz = ctx.name, ctx.tz
    due = when(timer.due, tz)
    verb = "has" if len(unshared) == 1 else "have"
    still = f" Still not told: {agencies(unshared)}." if unshared else ""
    limits = ctx.config.deadlines
    allowed = (
        f"{limits.decision_urgent_working_hours} working hours"
        if urgent(summary)
        else f"{limits.decision_working_days} working day"
        + ("s" if limits.decision_working_days != 1 else "")
    )
    return ctx.alert(
        RULE,
        severity,
        [summary.event_id],
        summary=(
            f"No MASH decision has been recorded on {describe(summary, 'the')} about {name} "
            f"from {when(summary.recorded_at, tz)}, due by {due}"
            + (f"; {agencies(unshared)} {verb} still not been told." if unshared else ".")
        ),
        chronology=[
            chronology_line(summary, tz),
            f"- A decision was due by {due} ({allowed} after it was recorded); none has "
            f"been recorded.{still}",
        ],
        recommended_action=(
            f"Review {describe(summary, 'the')} about {name} now and record the MASH decision."
        ),
        unshared_with=unshared,
        due_by=timer.due,
        raised_at=timer.due,
        link_note=timer.link_note,
    )
