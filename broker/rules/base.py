"""What every rule shares: the step's context, building an alert, publishing it once.

A rule is a function of (context) -> outputs: what it decided (alerts, disclosures,
feedback), never where they go; the pipeline routes them to topics
(broker.pipeline.records.records_for), so the domain knows nothing of Kafka. The
context carries the child's picture (the step's own working copy, already updated with
the event), the configuration and the broker's clock (`now`, passed in: rules never
read a clock). An alert's id derives from its rule, its child and its evidence, so the
same rule on the same evidence gives the same id, and `Context.alert` raises it only
if the picture has not raised it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.config.partnership import PartnershipConfig
from broker.models import Agency, Alert, ChildRef, Event, Feedback, RuleId, Severity
from broker.models.built import built
from broker.models.ids import stable_id
from broker.picture.enrichment import enrichment
from broker.picture.model import ChildPicture, RaisedAlert, Timer
from broker.picture.wording import enrichment_text, first_name, sentence
from broker.policy.disclose import Disclosure

Output = Alert | Disclosure | Feedback
"""What a rule decides: an alert for the MASH, a disclosure to an agency (with its audit
record), or feedback to the agency that sent an event."""


@dataclass(frozen=True)
class Outcome:
    """What a step returns: the child's new picture and what it decided, in publication
    order. The caller stores the picture only once the outputs' records are sent."""

    picture: ChildPicture
    outputs: list[Output] = field(default_factory=list)


@dataclass
class Context:
    """One step's working state. `picture` is the step's own copy: rules update it
    (alerts raised, timers set) as they go."""

    picture: ChildPicture
    config: PartnershipConfig
    now: datetime
    link_note: str = ""
    event: Event | None = None

    @property
    def name(self) -> str:
        return first_name(self.picture)

    @property
    def tz(self) -> ZoneInfo:
        return self.config.calendar.tz

    def alert(
        self,
        rule_id: RuleId,
        severity: Severity,
        triggered_by: Sequence[str],
        *,
        summary: str,
        chronology: Sequence[str],
        recommended_action: str,
        unshared_with: Sequence[Agency] = (),
        due_by: datetime | None = None,
        raised_at: datetime | None = None,
        id_parts: Sequence[str] | None = None,
        link_note: str | None = None,
    ) -> list[Output]:
        """The alert, or nothing if this alert was raised before.

        `chronology` is the evidence, one line per event; the explanation adds what the
        other agencies know (the enrichment) and how the child was linked.
        """
        picture = self.picture
        parts = id_parts if id_parts is not None else triggered_by
        alert_id = stable_id("alert", rule_id.value, picture.child_id, *parts)
        if picture.alert(alert_id) is not None:
            return []
        note = self.link_note if link_note is None else link_note
        context = enrichment(picture)
        explanation = "\n".join(
            [
                *chronology,
                enrichment_text(self.name, context),
                *([sentence(f"How the records were linked: {note}")] if note else []),
            ]
        )
        raised = raised_at or self.now
        alert = Alert(
            alert_id=alert_id,
            rule_id=rule_id,
            severity=severity,
            child=child_ref(picture),
            triggered_by=list(dict.fromkeys(triggered_by)),
            summary=summary,
            explanation=explanation,
            unshared_with=list(unshared_with),
            recommended_action=recommended_action,
            due_by=due_by,
            raised_at=raised,
            identity_note=note or None,
            context=context,
        )
        picture.alerts.append(
            RaisedAlert(
                alert_id=alert_id, rule_id=rule_id, event_id=triggered_by[0], raised_at=raised
            )
        )
        return [alert]

    def set_timer(self, timer: Timer) -> None:
        """Start (or move) a deadline, unless that deadline has already fired."""
        if timer.key in self.picture.fired:
            return
        self.picture.timers = [t for t in self.picture.timers if t.key != timer.key]
        self.picture.timers.append(timer)

    def clear_timer(self, key: str) -> bool:
        """Stop a deadline (what was due arrived); True if one was running."""
        before = len(self.picture.timers)
        self.picture.timers = [t for t in self.picture.timers if t.key != key]
        return len(self.picture.timers) != before


def child_ref(picture: ChildPicture) -> ChildRef:
    """The child as an alert names them: the broker's id, name, date of birth, and the
    social care id and status whenever the child has them."""
    identity = picture.identity
    if identity is None:
        raise ValueError("a picture without an identity cannot be alerted on")
    record = picture.socialcare
    return built(
        ChildRef,  # the picture's values, validated when they arrived
        child_id=picture.child_id,
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        socialcare_id=identity.identifiers.get("socialcare_id")
        or (record.socialcare_id if record else None),
        status=record.status if record else None,
    )
