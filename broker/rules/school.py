"""Schools: SCHOOL_FILE_NOT_TRANSFERRED and ENCOMPASS_SCHOOL_UNKNOWN.

Inspectors found safeguarding files not reaching the new school promptly, and schools
learning of domestic abuse at home late or never.

- SCHOOL_FILE_NOT_TRANSFERRED (a timer): a move of a child with a child protection
  file, or of a child known to social care, with no `cp_file_transferred_at` by the end
  of the fifth school day after the start date (after the leave date when there is no
  start date). Keeping Children Safe in Education: the file follows the child within 5
  school days. A later event for the same move that records the transfer stops it.
- ENCOMPASS_SCHOOL_UNKNOWN (at once): a police notice of domestic abuse about a child of
  school age (4 to 17 at occurred_at) whose school is not known, so Operation Encompass
  cannot reach a school; due before 08:30 on the next school day.
"""

from __future__ import annotations

from broker.calendar.worktime import age_on
from broker.models import Agency, Concern, PoliceVist, RuleId, SchoolTransition, Severity
from broker.picture.derived import KNOWN_TO_SOCIAL_CARE, current_school, status
from broker.picture.model import Timer, Transition
from broker.picture.wording import STATUS_NAMES, chronology_line, day, deadline, when
from broker.rules.base import Context, Output

FILE_RULE = RuleId.SCHOOL_FILE_NOT_TRANSFERRED


def file_timer_key(transition_id: str) -> str:
    return f"{FILE_RULE.value}:{transition_id}"


def file_needed(ctx: Context, move: Transition) -> bool:
    """Must this move's child protection file be transferred (and has it not been)?"""
    if move.cp_file_transferred_at is not None:
        return False
    return move.cp_file_exists or status(ctx.picture) in KNOWN_TO_SOCIAL_CARE


def on_transition(ctx: Context, event: SchoolTransition) -> None:
    """Start, move or stop the file deadline of this move."""
    move = ctx.picture.transitions[event.transition_id]
    key = file_timer_key(move.transition_id)
    if not file_needed(ctx, move):
        ctx.clear_timer(key)
        return
    counted_from = move.start_date or move.leave_date
    due = ctx.config.calendar.end_of_nth_school_day_after(
        counted_from, ctx.config.deadlines.school_file_school_days
    )
    ctx.set_timer(
        Timer(
            key=key,
            rule_id=FILE_RULE,
            due=due,
            event_id=move.event_ids[0],
            resolved_by="a school.transition with this transition_id and cp_file_transferred_at",
            link_note=ctx.link_note,
            transition_id=move.transition_id,
        )
    )


def fire_file(ctx: Context, timer: Timer) -> list[Output]:
    move = ctx.picture.transitions.get(timer.transition_id or "")
    if move is None or move.cp_file_transferred_at is not None:
        return []
    name, tz = ctx.name, ctx.tz
    first = ctx.picture.event(move.event_ids[0])
    started = (
        f"started at {move.to_school.name} on {day(move.start_date)}"
        if move.start_date
        else f"left {move.from_school.name} on {day(move.leave_date)}"
    )
    why = (
        "a child protection file exists"
        if move.cp_file_exists
        else f"{name} is {STATUS_NAMES.get(status(ctx.picture) or '', 'known to social care')}"
    )
    days = ctx.config.deadlines.school_file_school_days
    return ctx.alert(
        FILE_RULE,
        Severity.high,
        move.event_ids,
        id_parts=["transition", move.transition_id],
        summary=(
            f"{name}'s child protection file has not reached {move.to_school.name}: "
            f"{name} {started} and it was due by {deadline(timer.due, tz)}."
        ),
        chronology=[
            *([chronology_line(first, tz)] if first else []),
            f"- Moving from {move.from_school.name} (URN {move.from_school.urn}) to "
            f"{move.to_school.name} (URN {move.to_school.urn}); {why}.",
            f"- The file was due within {days} school days; no transfer has been recorded.",
        ],
        recommended_action=(
            f"Ask {move.from_school.name} to send {name}'s child protection file to the "
            f"designated safeguarding lead at {move.to_school.name} today and confirm receipt."
        ),
        unshared_with=[Agency.school],
        due_by=timer.due,
        raised_at=timer.due,
        link_note=timer.link_note,
    )


def encompass_school_unknown(ctx: Context, vist: PoliceVist) -> list[Output]:
    """The alert when a school-age child's school is not known, else nothing."""
    if Concern.domestic_abuse not in vist.concerns or current_school(ctx.picture) is not None:
        return []
    limits, calendar = ctx.config.thresholds, ctx.config.calendar
    local_day = vist.occurred_at.astimezone(calendar.tz).date()
    age = age_on(vist.subject.date_of_birth, local_day)
    if not limits.encompass_min_age <= age <= limits.encompass_max_age:
        return []
    due = calendar.next_school_day_0830(vist.recorded_at)
    name, tz = ctx.name, ctx.tz
    summary = ctx.picture.event(vist.event_id)
    return ctx.alert(
        RuleId.ENCOMPASS_SCHOOL_UNKNOWN,
        Severity.medium,
        [vist.event_id],
        summary=(
            f"The police recorded domestic abuse affecting {name} (aged {age}), but no school "
            f"is known for {name}, so no Operation Encompass notification could be sent."
        ),
        chronology=[
            *([chronology_line(summary, tz)] if summary else []),
            f"- No current school is recorded for {name} (no school move, and no open "
            "school involvement).",
        ],
        recommended_action=(
            f"Find {name}'s school and make sure its designated safeguarding lead is told "
            f"before {when(due, tz)}."
        ),
        unshared_with=[Agency.school],
        due_by=due,
    )
