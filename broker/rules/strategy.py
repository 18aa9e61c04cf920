"""Strategy discussions: STRATEGY_DISCUSSION_OVERDUE and STRATEGY_MEETING_INCOMPLETE.

Inspectors found strategy discussions delayed, or held without the relevant
professionals. Working Together 2023: social care, the police and health at least, and
the school and other agencies involved with the child.

- STRATEGY_DISCUSSION_OVERDUE (a timer): a MASH decision of `strategy_discussion` or
  `section_47` not followed by a strategy meeting for the child within 1 working day.
  A meeting counts from its held_at: one held after the decision (or naming it) and by
  the deadline stops the timer.
- STRATEGY_MEETING_INCOMPLETE (at once): a meeting without social care, the police and
  health, or without the child's current school, or without any other agency involved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from broker.models import Agency, DecisionKind, MashDecision, RuleId, Severity, StrategyMeeting
from broker.picture.derived import agencies_involved, current_school, in_agency_order
from broker.picture.model import DecisionMade, Timer
from broker.picture.wording import agencies, agency_name, chronology_line, join_words, when
from broker.rules.base import Context, Output

OVERDUE = RuleId.STRATEGY_DISCUSSION_OVERDUE
CALLING: Final = frozenset({DecisionKind.strategy_discussion, DecisionKind.section_47})
DECISION_WORDS: Final = {
    DecisionKind.strategy_discussion: "a strategy discussion",
    DecisionKind.section_47: "a section 47 enquiry",
}


def timer_key(decision_event_id: str) -> str:
    return f"{OVERDUE.value}:{decision_event_id}"


def on_decision(ctx: Context, decision: MashDecision) -> None:
    """A decision calling a strategy discussion starts its deadline."""
    if decision.decision not in CALLING:
        return
    due = ctx.config.calendar.add_working_days(
        decision.recorded_at, ctx.config.deadlines.strategy_discussion_working_days
    )
    made = _made(ctx, decision.event_id)
    if made is not None and any(
        answers(m.held_at, m.refers_to, made, due) for m in ctx.picture.meetings
    ):
        return
    ctx.set_timer(
        Timer(
            key=timer_key(decision.event_id),
            rule_id=OVERDUE,
            due=due,
            event_id=decision.event_id,
            resolved_by="a socialcare.strategy_meeting for the child held by the deadline",
            link_note=ctx.link_note,
        )
    )


def on_meeting(ctx: Context, meeting: StrategyMeeting) -> None:
    """A meeting stops the deadline of every decision it answers."""
    for timer in list(ctx.picture.timers):
        if timer.rule_id != OVERDUE:
            continue
        made = _made(ctx, timer.event_id)
        if made is None or answers(meeting.held_at, meeting.refers_to, made, timer.due):
            ctx.clear_timer(timer.key)


def answers(held_at: datetime, refers_to: str | None, made: DecisionMade, due: datetime) -> bool:
    """Does a meeting held at `held_at` answer the decision `made` by `due`?"""
    named = refers_to is not None and refers_to in (made.event_id, made.decision_id, made.refers_to)
    return held_at <= due and (named or held_at >= made.occurred_at)


def _made(ctx: Context, event_id: str) -> DecisionMade | None:
    return next((d for d in ctx.picture.decisions if d.event_id == event_id), None)


def fire(ctx: Context, timer: Timer) -> list[Output]:
    made = _made(ctx, timer.event_id)
    if made is None:
        return []
    if any(answers(m.held_at, m.refers_to, made, timer.due) for m in ctx.picture.meetings):
        return []
    name, tz = ctx.name, ctx.tz
    what = DECISION_WORDS.get(made.decision, "a strategy discussion")
    target = ctx.picture.event(made.target_event_id or "")
    return ctx.alert(
        OVERDUE,
        Severity.high,
        [made.event_id, *([target.event_id] if target else [])],
        summary=(
            f"No strategy meeting has been recorded for {name} within one working day of the "
            f"MASH decision for {what} on {when(made.recorded_at, tz)}."
        ),
        chronology=[
            *([chronology_line(target, tz)] if target else []),
            f"- {when(made.recorded_at, tz)}: the MASH ({made.decided_by}) decided on {what}.",
            f"- A strategy meeting was due by {when(timer.due, tz)}; none has been recorded.",
        ],
        recommended_action=(
            f"Convene the strategy discussion for {name} now, with children's social care, "
            f"the police, health and {name}'s school."
        ),
        due_by=timer.due,
        raised_at=timer.due,
        link_note=timer.link_note,
    )


def incomplete(ctx: Context, meeting: StrategyMeeting) -> list[Output]:
    """STRATEGY_MEETING_INCOMPLETE: who should have been there and was not."""
    picture = ctx.picture
    needed = set(ctx.config.strategy_meeting_core) | set(agencies_involved(picture))
    needed.discard(Agency.mash)
    missing = in_agency_order(needed - set(meeting.attendees))
    if not missing:
        return []
    name, tz = ctx.name, ctx.tz
    school = current_school(picture)
    named = [
        f"{school.name} (school)" if a == Agency.school and school else agency_name(a)
        for a in missing
    ]
    present = agencies(in_agency_order(set(meeting.attendees))) or "no agency recorded"
    return ctx.alert(
        RuleId.STRATEGY_MEETING_INCOMPLETE,
        Severity.medium,
        [meeting.event_id],
        summary=(
            f"The strategy meeting about {name} on {when(meeting.held_at, tz)} was held "
            f"without {join_words(named)}."
        ),
        chronology=[
            f"- {when(meeting.held_at, tz)}: strategy meeting {meeting.meeting_id}, "
            f"attended by {present}.",
            f"- Missing: {agencies(missing)}.",
        ],
        recommended_action=(
            f"Share the meeting's outcome with {agencies(missing)}, seek what they know "
            f"about {name}, and reconvene if it changes the plan."
        ),
        unshared_with=missing,
    )
