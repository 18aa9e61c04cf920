"""The child's picture: what the broker knows of one child, and how events update it.

`ChildPicture` is plain, JSON-serialisable data (a faust table value in the worker);
`apply` updates it with one event; `enrichment` summarises it for explanations; the
derived notions of events.md (`is_risk_event`, `is_significant_harm`,
`agencies_involved`, `told_of`) read it.
"""

from broker.picture.apply import apply, apply_in_place, new_picture, prune, summarise
from broker.picture.derived import (
    KNOWN_TO_SOCIAL_CARE,
    PROTECTED,
    agencies_involved,
    current_school,
    has_been_told,
    in_agency_order,
    is_risk_event,
    is_significant_harm,
    not_yet_told,
    status,
    told_of,
)
from broker.picture.enrichment import enrichment
from broker.picture.merge import merge_pictures
from broker.picture.model import (
    ChildPicture,
    DecisionMade,
    EventSummary,
    Identity,
    Involvement,
    MeetingHeld,
    RaisedAlert,
    ScreeningDone,
    SocialCare,
    Timer,
    Transition,
)

__all__ = [
    "KNOWN_TO_SOCIAL_CARE",
    "PROTECTED",
    "ChildPicture",
    "DecisionMade",
    "EventSummary",
    "Identity",
    "Involvement",
    "MeetingHeld",
    "RaisedAlert",
    "ScreeningDone",
    "SocialCare",
    "Timer",
    "Transition",
    "agencies_involved",
    "apply",
    "apply_in_place",
    "current_school",
    "enrichment",
    "has_been_told",
    "in_agency_order",
    "is_risk_event",
    "is_significant_harm",
    "merge_pictures",
    "new_picture",
    "not_yet_told",
    "prune",
    "status",
    "summarise",
    "told_of",
]
