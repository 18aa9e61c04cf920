"""A share becomes a disclosure: the notification the agency receives, minimised for it,
and the audit record of it (what, to whom, when, why, with what consent,
decided by whom).

The government's information sharing advice asks that every share be recorded with
what was shared, with whom and why; so one notification always writes one audit record,
and the audit lists every field disclosed, the child's name and identifiers included.
Ids derive from the evidence (event, recipient, who decided), so a share re-made after a
crash carries the same ids and a consumer can drop the repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import JsonValue

from broker.config.partnership import PartnershipConfig
from broker.models import Agency, AuditDisclosure, Notification, NotifiedChild
from broker.models.ids import stable_id
from broker.picture.derived import current_school
from broker.picture.model import ChildPicture, EventSummary
from broker.picture.wording import agency_name, concerns, describe, first_name, when
from broker.policy.minimisation import minimise, recipient_identifiers
from broker.policy.shares import RULE_ENCOMPASS, Share


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One share as decided: about which child, the notification, and its audit record.

    The policy decides what is told to whom; where it is published (the agency's
    notification topic, the audit topic, keyed by the child) is the pipeline's business
    (broker.pipeline.records.records_for).
    """

    child_id: str
    notification: Notification
    audit: AuditDisclosure


def disclose(
    share: Share,
    summary: EventSummary,
    picture: ChildPicture,
    *,
    config: PartnershipConfig,
    now: datetime,
) -> Disclosure:
    """The notification and its audit record."""
    agency = share.to_agency
    fields = minimise(
        summary.body, summary.event_type, agency, config.minimisation, encompass=share.encompass
    )
    routing = _recipient(picture, agency)
    if routing:
        fields["recipient"] = routing
    identity = picture.identity
    if identity is None:  # an event always sets it before anything is shared
        raise ValueError("a picture without an identity cannot be disclosed")
    identifiers = recipient_identifiers(identity.identifiers, agency, config.minimisation)
    child = NotifiedChild(
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        identifiers=identifiers,
    )
    notification_id = stable_id("ntf", summary.event_id, agency.value, share.decided_by)
    notification = Notification(
        notification_id=notification_id,
        event_id=summary.event_id,
        event_type=summary.event_type,
        to_agency=agency,
        child=child,
        summary=notification_summary(share, summary, picture, config),
        lawful_basis=config.lawful_bases[share.basis],
        consent=share.consent,
        due_by=share.due_by,
        fields=fields,
    )
    disclosed = [
        "child.given_name",
        "child.family_name",
        "child.date_of_birth",
        *(f"child.{name}" for name in identifiers),
        *(name for name in fields if name != "recipient"),
    ]
    audit = AuditDisclosure(
        disclosure_id=stable_id("dsc", notification_id),
        event_id=summary.event_id,
        child_id=picture.child_id,
        to_agency=agency,
        fields=disclosed,
        lawful_basis=notification.lawful_basis,
        consent=share.consent,
        decided_by=share.decided_by,
        disclosed_at=now,
    )
    return Disclosure(picture.child_id, notification, audit)


def notification_summary(
    share: Share, summary: EventSummary, picture: ChildPicture, config: PartnershipConfig
) -> str:
    """One plain sentence for the recipient: what happened, when, and why they are told."""
    name = first_name(picture)
    tz = config.calendar.tz
    if share.decided_by == RULE_ENCOMPASS:
        return (
            f"Operation Encompass: {agency_name(summary.source_agency)} recorded "
            f"{concerns(['domestic_abuse'])} affecting {name} on "
            f"{when(summary.occurred_at, tz)}; {name} may need support in school."
        )
    source = agency_name(summary.source_agency)
    what = describe(summary)
    why = (
        "the MASH decided to share it with you"
        if not share.decided_by.startswith("rule:")
        else f"{name} is known to children's social care"
    )
    return (
        f"{source.capitalize()} recorded {what} about {name} on "
        f"{when(summary.occurred_at, tz)}; you are told because {why}."
    )


def _recipient(picture: ChildPicture, agency: Agency) -> dict[str, JsonValue] | None:
    """Who in the agency it is for, where the broker knows: the child's school, or the
    allocated social worker. Not a field of the event: routing for the recipient."""
    if agency == Agency.school:
        school = current_school(picture)
        return {"urn": school.urn, "name": school.name} if school else None
    if agency == Agency.socialcare and picture.socialcare and picture.socialcare.allocated_worker:
        worker = picture.socialcare.allocated_worker
        return {"allocated_worker": worker.name, "team": worker.team}
    return None
