"""CUMULATIVE_CONCERNS, CUMULATIVE_NEGLECT and REPEAT_MISSING: what no single agency sees.

Inspectors found historic information and cumulative neglect not analysed, and children
re-referred again and again. Each rule counts the child's risk events in a trailing
window (on occurred_at, ending at the event being processed) and fires when the event
makes the count reach a multiple of its threshold:

- CUMULATIVE_CONCERNS: risk events in 365 days reach 3, 6, 9, ... (medium);
- CUMULATIVE_NEGLECT: risk events with neglect in 365 days reach 2, 4, 6, ... (high);
- REPEAT_MISSING: risk events with missing in 90 days reach 3, 6, ... (high).

The evidence is every counted event, the new one first, so the same events give the
same alert id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from broker.config.partnership import Thresholds
from broker.models import Concern, RuleId, Severity
from broker.picture.derived import chronological
from broker.picture.model import EventSummary
from broker.picture.wording import agencies, chronology_line
from broker.rules.base import Context, Output


@dataclass(frozen=True)
class Count:
    rule_id: RuleId
    severity: Severity
    every: int
    window_days: int
    counts: Callable[[EventSummary], bool]


def counting(ctx: Context) -> tuple[Count, ...]:
    return _counts(ctx.config.thresholds)


def _any_risk(e: EventSummary) -> bool:
    return True


def _neglect(e: EventSummary) -> bool:
    return Concern.neglect in e.concerns


def _missing(e: EventSummary) -> bool:
    return Concern.missing in e.concerns


@lru_cache(maxsize=8)
def _counts(limits: Thresholds) -> tuple[Count, ...]:
    """The three counts for a configuration's thresholds (made once, not per event)."""
    return (
        Count(
            RuleId.CUMULATIVE_CONCERNS,
            Severity.medium,
            limits.cumulative_concerns_every,
            limits.cumulative_concerns_window_days,
            _any_risk,
        ),
        Count(
            RuleId.CUMULATIVE_NEGLECT,
            Severity.high,
            limits.cumulative_neglect_every,
            limits.cumulative_neglect_window_days,
            _neglect,
        ),
        Count(
            RuleId.REPEAT_MISSING,
            Severity.high,
            limits.repeat_missing_every,
            limits.repeat_missing_window_days,
            _missing,
        ),
    )


def window(ctx: Context, summary: EventSummary, count: Count) -> list[EventSummary]:
    """The counted risk events in the trailing window ending at `summary`, in the order
    of the picture (sorted only when an alert needs them: most counts do not fire)."""
    since = summary.occurred_at - timedelta(days=count.window_days)
    return [
        e
        for e in ctx.picture.events
        if e.risk and count.counts(e) and since <= e.occurred_at <= summary.occurred_at
    ]


def check(ctx: Context, summary: EventSummary) -> list[Output]:
    if not summary.risk:
        return []
    records: list[Output] = []
    for count in counting(ctx):
        if not count.counts(summary):
            continue
        events = window(ctx, summary, count)
        n = len(events)
        if n == 0 or n % count.every:
            continue
        records += _alert(ctx, summary, count, chronological(events))
    return records


def _alert(
    ctx: Context, summary: EventSummary, count: Count, events: list[EventSummary]
) -> list[Output]:
    name, tz, n, days = ctx.name, ctx.tz, len(events), count.window_days
    sources = agencies(sorted({e.source_agency.value for e in events}))
    if count.rule_id == RuleId.CUMULATIVE_NEGLECT:
        said = f"{n} concerns of neglect about {name} have been recorded in {days} days"
        action = (
            f"Review the neglect concerns about {name} together, with a neglect assessment, "
            "rather than one at a time."
        )
    elif count.rule_id == RuleId.REPEAT_MISSING:
        said = f"{name} has been reported missing {n} times in {days} days"
        action = (
            f"Check that {name} had a return home interview after each missing episode and "
            "consider exploitation screening and a strategy discussion."
        )
    else:
        said = f"{n} risk events about {name} have been recorded in {days} days"
        action = (
            f"Review {name}'s multi-agency chronology as a whole and decide whether the "
            "threshold for assessment is met."
        )
    return ctx.alert(
        count.rule_id,
        count.severity,
        [summary.event_id, *(e.event_id for e in events if e.event_id != summary.event_id)],
        summary=f"{said}, by {sources}.",
        chronology=[chronology_line(e, tz) for e in events],
        recommended_action=action,
    )
