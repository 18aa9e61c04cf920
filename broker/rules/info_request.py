"""RELEVANT_AGENCY_OMITTED: a MASH information request that leaves out an agency that
holds part of the child's story.

Inspectors found multi-agency requests that left out relevant agencies, such as the
substance misuse service. Relevant: every agency involved with the child, and from the
child's risk events in the past 365 days (on occurred_at) the agency each concern
points to (substance misuse -> the substance misuse service, mental health or self-harm
-> CAMHS, offending or criminal exploitation -> the YOT, domestic abuse -> the police;
the mapping is the partnership's configuration).
"""

from __future__ import annotations

from datetime import timedelta

from broker.models import Agency, MashInfoRequest, RuleId, Severity
from broker.picture.derived import agencies_involved, in_agency_order
from broker.picture.model import EventSummary
from broker.picture.wording import agencies, agency_name, chronology_line, concerns, when
from broker.rules.base import Context, Output


def relevant(ctx: Context, request: MashInfoRequest) -> dict[Agency, list[EventSummary]]:
    """Each relevant agency, with the risk events that make it relevant (none: it is
    involved with the child)."""
    picture, limits = ctx.picture, ctx.config.thresholds
    found: dict[Agency, list[EventSummary]] = {a: [] for a in agencies_involved(picture)}
    since = request.occurred_at - timedelta(days=limits.relevant_agency_window_days)
    for summary in picture.events:
        if not summary.risk or not since <= summary.occurred_at <= request.occurred_at:
            continue
        for concern in summary.concerns:
            for agency in ctx.config.relevant_agencies.get(concern, ()):
                events = found.setdefault(agency, [])
                if summary not in events:
                    events.append(summary)
    found.pop(Agency.mash, None)
    return found


def check(ctx: Context, request: MashInfoRequest) -> list[Output]:
    found = relevant(ctx, request)
    contacted = set(request.agencies_contacted)
    omitted = in_agency_order({a for a in found if a not in contacted})
    if not omitted:
        return []
    name, tz = ctx.name, ctx.tz
    involved = agencies_involved(ctx.picture)
    reasons: list[str] = []
    evidence: list[str] = []
    for agency in omitted:
        why = []
        if agency in involved:
            why.append(f"works with {name}")
        events = found[agency]
        if events:
            kinds = sorted(
                {
                    c
                    for e in events
                    for c in e.concerns
                    if agency in ctx.config.relevant_agencies.get(c, ())
                }
            )
            why.append(f"is the service for the {concerns(kinds)} recorded in the past year")
        reasons.append(f"{agency_name(agency)} {' and '.join(why)}")
        evidence.extend(e.event_id for e in events)
    evidence_events = [s for s in ctx.picture.events if s.event_id in set(evidence)]
    asked = agencies(in_agency_order(contacted)) or "no agency"
    return ctx.alert(
        RuleId.RELEVANT_AGENCY_OMITTED,
        Severity.medium,
        [request.event_id, *(s.event_id for s in evidence_events)],
        summary=(
            f"The MASH information request about {name} on {when(request.occurred_at, tz)} "
            f"did not go to {agencies(omitted)}."
        ),
        chronology=[
            f"- {when(request.occurred_at, tz)}: the MASH asked {asked} for information "
            f"(request {request.request_id}).",
            *(f"- Left out: {reason}." for reason in reasons),
            *(chronology_line(s, tz) for s in evidence_events),
        ],
        recommended_action=f"Send the information request to {agencies(omitted)} as well.",
        unshared_with=omitted,
    )
