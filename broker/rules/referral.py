"""REFERRAL_INCOMPLETE: a youth offending team referral without the depth the MASH needs.

Inspectors found YOT referrals on the wrong template, lacking depth about the impact
on the child. A referral is incomplete when its template is not the current one, its
`concern_summary` is missing or under 10 words, its `impact_on_child` missing or under
15 words, or, when its concerns include mental health or self-harm, its
`mental_health_impact` missing or under 15 words. The referral still flows (it is a
risk event like any other); the YOT gets feedback naming each deficient field, and the
MASH a low alert so it can chase the missing analysis.
"""

from __future__ import annotations

import re
from typing import Final

from broker.config.partnership import Thresholds
from broker.models import Concern, Feedback, FeedbackKind, ProblemOut, RuleId, Severity, YotReferral
from broker.models.ids import stable_id
from broker.picture.wording import join_words, when
from broker.rules.base import Context, Output

_WORD: Final = re.compile(r"\w+(?:['’-]\w+)*")
MENTAL_HEALTH: Final = frozenset({Concern.mental_health, Concern.self_harm})


def word_count(text: str | None) -> int:
    """Words in a text: runs of letters or digits (a hyphenated word is one)."""
    return len(_WORD.findall(text or ""))


_ASKS: Final = {
    "concern_summary": "summarise the concerns",
    "impact_on_child": "analyse the impact on the child's lived experience",
    "mental_health_impact": "describe the impact on the child's mental health",
}
"""What the YOT is asked to do about each free-text field, in its feedback."""


def _texts(referral: YotReferral, limits: Thresholds) -> list[tuple[str, str | None, int]]:
    """The free-text fields a referral must fill, each with its text and its minimum
    number of words (the mental health impact only when mental health or self-harm is
    among the concerns)."""
    texts = [
        ("concern_summary", referral.concern_summary, limits.referral_concern_summary_min_words),
        ("impact_on_child", referral.impact_on_child, limits.referral_impact_on_child_min_words),
    ]
    if MENTAL_HEALTH.intersection(referral.concerns):
        texts.append(
            (
                "mental_health_impact",
                referral.mental_health_impact,
                limits.referral_mental_health_impact_min_words,
            )
        )
    return texts


def _state(words: int) -> str:
    return "is missing" if words == 0 else f"has {words} word{'s' if words != 1 else ''}"


def deficiencies(referral: YotReferral, limits: Thresholds) -> list[ProblemOut]:
    """Each deficient field with what to do about it, in the template's order."""
    problems: list[ProblemOut] = []
    current = limits.referral_template_version
    if referral.template_version != current:
        problems.append(
            ProblemOut(
                field="template_version",
                message=f"is not the current referral template (version {current}); "
                "use the current template",
            )
        )
    for field, text, minimum in _texts(referral, limits):
        words = word_count(text)
        if words >= minimum:
            continue
        problems.append(
            ProblemOut(
                field=field, message=f"{_state(words)}: {_ASKS[field]} in at least {minimum} words"
            )
        )
    return problems


def _in_words(
    referral: YotReferral, fields: list[str], name: str, limits: Thresholds
) -> tuple[list[str], list[str], list[str]]:
    """What is wrong, said for the MASH rather than for the YOT's system: the summary's
    clauses, the explanation's lines and the case manager's asks, one for each field
    (the YOT's feedback keeps the field names its system acts on)."""
    clauses: list[str] = []
    lines: list[str] = []
    asks: list[str] = []
    said = {
        "concern_summary": ("the summary of concerns", "summarise the concerns"),
        "impact_on_child": (
            f"the analysis of the impact on {name}",
            f"analyse the impact on {name}'s lived experience",
        ),
        "mental_health_impact": (
            f"the impact on {name}'s mental health",
            f"describe the impact on {name}'s mental health",
        ),
    }
    if "template_version" in fields:
        current = limits.referral_template_version
        clauses.append(f"it is on an old template (not version {current})")
        lines.append(
            f"- It was made on template version {referral.template_version}, "
            f"not the current version {current}."
        )
        asks.append(f"resend it on the current template (version {current})")
    for field, text, minimum in _texts(referral, limits):
        if field not in fields:
            continue
        what, ask = said[field]
        state = _state(word_count(text))
        clauses.append(f"{what} {state}")
        lines.append(f"- {what[0].upper()}{what[1:]} {state}; at least {minimum} words are needed.")
        asks.append(ask)
    return clauses, lines, asks


def check(ctx: Context, referral: YotReferral) -> list[Output]:
    """The YOT's feedback and the MASH's alert, or nothing for a complete referral."""
    problems = deficiencies(referral, ctx.config.thresholds)
    if not problems:
        return []
    name, tz = ctx.name, ctx.tz
    clauses, lines, asks = _in_words(
        referral, [p.field for p in problems], name, ctx.config.thresholds
    )
    feedback = Feedback(
        feedback_id=stable_id("fb", "incomplete", referral.event_id),
        event_id=referral.event_id,
        to_agency=referral.source.agency,
        kind=FeedbackKind.incomplete,
        problems=problems,
        created_at=ctx.now,
    )
    alert = ctx.alert(
        RuleId.REFERRAL_INCOMPLETE,
        Severity.low,
        [referral.event_id],
        summary=(
            f"The youth offending team's referral about {name} is incomplete: "
            f"{join_words(clauses)}."
        ),
        chronology=[
            f"- {when(referral.occurred_at, tz)}: the youth offending team: referral "
            f"{referral.referral_id} (case manager {referral.case_manager.name}, "
            f"{referral.case_manager.team}).",
            *lines,
            "The referral has been accepted and shared as usual; the youth offending team "
            "has been sent feedback naming each field.",
        ],
        recommended_action=(
            f"Ask {referral.case_manager.name} to {join_words(asks)}, so the MASH can weigh "
            f"the impact on {name}."
        ),
    )
    return [
        *alert,
        feedback,
    ]
