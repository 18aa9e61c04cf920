"""Language review: feedback on phrases that blame children for their own abuse.

Inspectors found such language in records, unchallenged; children may read their
records later in life. The free text of an event (`narrative`, `concern_summary`,
`impact_on_child`) is checked against the partnership's list (language.md) and the
publishing agency is told each phrase it used and the wording to use instead. It never
blocks or delays the event: the feedback is a record beside the event's processing,
and it never quotes the text around a phrase.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from broker.language.review import LanguageList, review_fields
from broker.models import Event, Feedback, FeedbackKind, ProblemOut
from broker.models.ids import stable_id

REVIEWED_FIELDS: Final = ("narrative", "concern_summary", "impact_on_child")


def language_feedback(event: Event, language: LanguageList, now: datetime) -> list[Feedback]:
    """One feedback naming every phrase found, or nothing."""
    # the model's own field values: getattr on a field an event type lacks goes through
    # pydantic's __getattr__ and an AttributeError, on most events
    values = event.__dict__
    texts = {name: values.get(name) for name in REVIEWED_FIELDS}
    found = review_fields({k: v for k, v in texts.items() if isinstance(v, str)}, language)
    if not found:
        return []
    problems = [
        ProblemOut(
            field=field,
            message=f'uses "{finding.phrase}": write instead "{finding.suggestion}"',
        )
        for field, finding in found
    ]
    feedback = Feedback(
        feedback_id=stable_id("fb", "language", event.event_id),
        event_id=event.event_id,
        to_agency=event.source.agency,
        kind=FeedbackKind.language,
        problems=problems,
        created_at=now,
    )
    return [feedback]
