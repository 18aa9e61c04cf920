"""UNSHARED_RISK and CONSENT_DECISION_REQUIRED: agencies working with a child that have
not been told of a risk event.

Inspectors found green VIST notices neither reviewed nor shared with partners, and
police deciding on police information alone. After the automatic sharing of rules.md,
any agency involved with the child that has not been told (its publisher excepted) is
named in an alert for the MASH, due by the decision deadline. When consent was refused
and the event is not significant harm, sharing was withheld on purpose, so the MASH is
asked to decide on consent (CONSENT_DECISION_REQUIRED) rather than told of a gap.
"""

from __future__ import annotations

from broker.models import Rag, RuleId, Severity
from broker.picture.derived import PROTECTED, in_agency_order, not_yet_told, status
from broker.picture.model import EventSummary
from broker.picture.wording import agencies, chronology_line, describe, when
from broker.policy.consent import withheld
from broker.rules import decision
from broker.rules.base import Context, Output


def severity(ctx: Context, summary: EventSummary) -> Severity:
    """High if significant harm; medium if AMBER or the child is on a plan or looked
    after; else low."""
    if summary.significant_harm:
        return Severity.high
    if summary.rag == Rag.AMBER or status(ctx.picture) in PROTECTED:
        return Severity.medium
    return Severity.low


def check(ctx: Context, summary: EventSummary) -> tuple[list[Output], bool]:
    """The alert (if any agency involved is still untold), and whether one applied."""
    if not summary.risk:
        return [], False
    unshared = in_agency_order(not_yet_told(ctx.picture, summary) - {summary.source_agency})
    if not unshared:
        return [], False
    name, tz = ctx.name, ctx.tz
    due = decision.deadline(summary, ctx.config)
    who = agencies(unshared)
    verb = "has" if len(unshared) == 1 else "have"
    what = describe(summary)
    lines = [
        chronology_line(summary, tz),
        f"- Told so far: {agencies(in_agency_order({summary.source_agency, *summary.told}))}; "
        f"not told: {who}.",
    ]
    if withheld(summary.consent, summary.significant_harm):
        records = ctx.alert(
            RuleId.CONSENT_DECISION_REQUIRED,
            Severity.medium,
            [summary.event_id],
            summary=(
                f"Consent to share {what} about {name} was refused, so {who}, "
                f"which {'works' if len(unshared) == 1 else 'work'} with {name}, "
                f"{verb} not been told."
            ),
            chronology=[
                *lines,
                "- Consent was refused and the event is not significant harm, so the broker "
                "shared it only with the MASH and children's social care.",
            ],
            recommended_action=(
                f"Decide by {when(due, tz)} whether to share without consent with {who}, "
                "and record the decision and its rationale."
            ),
            unshared_with=unshared,
            due_by=due,
        )
        return records, True
    records = ctx.alert(
        RuleId.UNSHARED_RISK,
        severity(ctx, summary),
        [summary.event_id],
        summary=(
            f"{agency_start(who)} {verb} not been told of {what} about {name} "
            f"on {when(summary.occurred_at, tz)}, although "
            f"{'it works' if len(unshared) == 1 else 'they work'} with {name}."
        ),
        chronology=lines,
        recommended_action=(
            f"Decide by {when(due, tz)} whether to share this with {who}, and record the decision."
        ),
        unshared_with=unshared,
        due_by=due,
    )
    return records, True


def agency_start(words: str) -> str:
    """Capitalise the first letter of a sentence that opens with agency names."""
    return words[:1].upper() + words[1:]
