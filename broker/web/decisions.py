"""From the page's forms to the events the broker acts on, and what a share would send.

A decision on an alert becomes a `mash.decision` event (events.md) from the MASH:
`refers_to` is the event behind the alert (the first of its `triggered_by`), which the
broker's rules accept (`broker.picture.apply`: a decision names an event or one of its
alerts), and its subject is the child as the broker knows them, every identifier
included, so that the identity matcher links it outright to the same child. An answer to
an IDENTITY_REVIEW becomes a `mash.identity_decision` naming the held event and the
candidate children.

What a share would send is worked out by the broker's own policy: the shares a decision
makes (`broker.policy.shares.decision_shares`) and the records each becomes
(`broker.policy.disclose.disclose`), minimised by the partnership's table;
the page shows the fields of the audit record each would write. Nothing is duplicated.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from pydantic import ValidationError

from broker.config.partnership import PartnershipConfig
from broker.models import (
    Agency,
    Alert,
    DecisionKind,
    IdentityDecision,
    IdentityDecisionKind,
    MashDecision,
    Source,
    Subject,
)
from broker.models.problems import problems_from
from broker.picture.model import ChildPicture, DecisionMade, EventSummary
from broker.policy.disclose import disclose
from broker.policy.shares import decision_shares

SYSTEM: Final = "mash-page"
MAX_RATIONALE: Final = 4000
SHAREABLE: Final = tuple(a for a in Agency if a != Agency.mash)

_CANDIDATES = re.compile(r"Possible matches \(broker child ids\): (?P<ids>[^\n]*?)\.?$", re.M)
_CHILD_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


@dataclass(frozen=True)
class FormProblem:
    field: str
    message: str


class FormErrors(Exception):
    """The form cannot be acted on; every problem, by field, for the error summary."""

    def __init__(self, problems: Sequence[FormProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class DecisionInput:
    kind: DecisionKind
    share_with: tuple[Agency, ...]
    rationale: str


@dataclass(frozen=True)
class IdentityInput:
    kind: IdentityDecisionKind
    child_ids: tuple[str, ...]
    rationale: str


@dataclass(frozen=True)
class SharePreview:
    """What one agency would receive if the MASH shared this event with it."""

    agency: Agency
    fields: tuple[str, ...] = ()
    """The names the audit record would list (the child's and the event's)."""
    values: Mapping[str, object] = field(default_factory=dict)
    summary: str = ""
    lawful_basis: str = ""
    already_told: bool = False


def _rationale(form: Mapping[str, str], problems: list[FormProblem]) -> str:
    text = (form.get("rationale") or "").strip()
    if not text:
        problems.append(FormProblem("rationale", "Enter the rationale for the decision."))
    elif len(text) > MAX_RATIONALE:
        problems.append(
            FormProblem("rationale", f"The rationale must be {MAX_RATIONALE} characters or fewer.")
        )
    return text


def read_decision(form: Mapping[str, str], share_with: Sequence[str]) -> DecisionInput:
    """The decision form, checked: a known decision, agencies with a share (and only
    then), a rationale. `FormErrors` lists every problem."""
    problems: list[FormProblem] = []
    raw = form.get("decision") or ""
    kind = DecisionKind(raw) if raw in DecisionKind.__members__ else None
    if kind is None:
        problems.append(FormProblem("decision", "Choose a decision."))
    agencies: list[Agency] = []
    for value in share_with:
        if value not in Agency.__members__ or value == Agency.mash:
            problems.append(FormProblem("share_with", "Choose agencies from the list."))
            break
        if Agency(value) not in agencies:
            agencies.append(Agency(value))
    if kind == DecisionKind.share and not agencies and not problems:
        problems.append(FormProblem("share_with", "Choose at least one agency to share with."))
    rationale = _rationale(form, problems)
    if problems or kind is None:
        raise FormErrors(problems)
    return DecisionInput(kind, tuple(agencies) if kind == DecisionKind.share else (), rationale)


def read_identity(form: Mapping[str, str], child_ids: Sequence[str]) -> IdentityInput:
    """The identity review form: same child or different children, the candidate
    children meant (and any other child id typed in), a rationale."""
    problems: list[FormProblem] = []
    raw = form.get("identity_decision") or ""
    kind = IdentityDecisionKind(raw) if raw in IdentityDecisionKind.__members__ else None
    if kind is None:
        problems.append(
            FormProblem("identity_decision", "Choose the same child or different children.")
        )
    chosen = [c for c in child_ids if c]
    other = (form.get("other_child_id") or "").strip()
    if other:
        chosen.append(other)
    if any(not _CHILD_ID.match(c) for c in chosen):
        problems.append(FormProblem("child_ids", "A child id is not in the broker's form."))
    if not chosen:
        problems.append(
            FormProblem("child_ids", "Choose the child or children the record is compared with.")
        )
    rationale = _rationale(form, problems)
    if problems or kind is None:
        raise FormErrors(problems)
    return IdentityInput(kind, tuple(dict.fromkeys(chosen)), rationale)


def subject_for(alert: Alert, picture: ChildPicture | None) -> Subject:
    """The child as the broker knows them: every identifier it holds, so that the
    decision links to the same child; the alert's own details when no picture is read."""
    identity = picture.identity if picture else None
    if identity is None:
        child = alert.child
        return Subject(
            given_name=child.given_name,
            family_name=child.family_name,
            date_of_birth=child.date_of_birth,
            socialcare_id=child.socialcare_id,
        )
    ids = identity.identifiers
    return Subject(
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        nhs_number=ids.get("nhs_number"),
        upn=ids.get("upn"),
        socialcare_id=ids.get("socialcare_id")
        or (picture.socialcare.socialcare_id if picture and picture.socialcare else None),
        police_person_id=ids.get("police_person_id"),
        postcode=identity.postcode,
    )


def _invalid(exc: ValidationError) -> FormErrors:
    return FormErrors([FormProblem(p.field, p.message) for p in problems_from(exc)])


def build_decision(
    alert: Alert, picture: ChildPicture | None, given: DecisionInput, decided_by: str, now: datetime
) -> MashDecision:
    """The `mash.decision` event for a decision on `alert`."""
    try:
        return MashDecision(
            event_id=f"mash-page-{uuid.uuid4()}",
            source=Source(agency=Agency.mash, system=SYSTEM),
            occurred_at=now,
            recorded_at=now,
            subject=subject_for(alert, picture),
            decision_id=str(uuid.uuid4()),
            refers_to=alert.triggered_by[0],
            decision=given.kind,
            share_with=list(given.share_with),
            rationale=given.rationale,
            decided_by=decided_by,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


def build_identity_decision(
    alert: Alert, given: IdentityInput, decided_by: str, now: datetime
) -> IdentityDecision:
    """The `mash.identity_decision` answering an IDENTITY_REVIEW: the held event (the
    alert's first evidence) against the children chosen."""
    try:
        return IdentityDecision(
            event_id=f"mash-page-{uuid.uuid4()}",
            source=Source(agency=Agency.mash, system=SYSTEM),
            occurred_at=now,
            recorded_at=now,
            subject=subject_for(alert, None),
            decision_id=str(uuid.uuid4()),
            decision=given.kind,
            child_ids=list(given.child_ids),
            event_ids=[alert.triggered_by[0]],
            review_alert_id=alert.alert_id,
            rationale=given.rationale,
            decided_by=decided_by,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


def candidates(alert: Alert) -> list[str]:
    """The broker's ids of the children an IDENTITY_REVIEW names as possible matches."""
    found = _CANDIDATES.search(alert.explanation)
    if not found:
        return []
    ids = [part.strip() for part in found.group("ids").split(",")]
    return [i for i in ids if _CHILD_ID.match(i) and " " not in i]


def share_previews(
    picture: ChildPicture, summary: EventSummary, config: PartnershipConfig, now: datetime
) -> list[SharePreview]:
    """For every agency the MASH could share with: the fields it would receive (as its
    disclosure would be audited), or that it has been told already."""
    every = DecisionMade(
        event_id="preview",
        decision_id="preview",
        refers_to=summary.event_id,
        target_event_id=summary.event_id,
        decision=DecisionKind.share,
        share_with=list(SHAREABLE),
        decided_by="preview",
        occurred_at=now,
        recorded_at=now,
    )
    shares = {s.to_agency: s for s in decision_shares(every, summary)}
    previews = []
    for agency in SHAREABLE:
        share = shares.get(agency)
        if share is None:
            previews.append(SharePreview(agency, already_told=True))
            continue
        disclosure = disclose(share, summary, picture, config=config, now=now)
        note, audit = disclosure.notification, disclosure.audit
        previews.append(
            SharePreview(
                agency,
                tuple(audit.fields),
                dict(note.fields),
                note.summary,
                note.lawful_basis,
            )
        )
    return previews
