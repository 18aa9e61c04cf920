"""Linking events to the right child: a pure matcher over plain records.

`IdentityIndex.link(PersonRecord)` returns a `LinkDecision`: linked to a known child,
a new child, or IDENTITY_REVIEW — following rules.md, "Identity". See docs/identity.md.
"""

from broker.identity.decision import LinkDecision, Outcome, Reason
from broker.identity.index import IdentityIndex, Thresholds
from broker.identity.records import PersonRecord
from broker.identity.scoring import Level

__all__ = [
    "IdentityIndex",
    "Level",
    "LinkDecision",
    "Outcome",
    "PersonRecord",
    "Reason",
    "Thresholds",
]
