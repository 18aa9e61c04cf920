"""The consent policy of rules.md, in one place.

Inspectors found confusion about when to share without parental consent, and no
rationale recorded. The policy:

- a significant-harm event is shared whatever its consent status, and every disclosure
  of it records consent `dispensed` (Sch.1 para 18: seeking consent could put the child
  at risk);
- an Operation Encompass notification is a statutory duty (Domestic Abuse Act 2021
  s.49A) and is sent whatever the consent status;
- when consent is `refused` and the event is not significant harm, automatic sharing to
  anyone but the MASH and social care is withheld, and the MASH must decide
  (CONSENT_DECISION_REQUIRED).

Whenever information goes out although consent was refused, the audit records
`dispensed`: consent was set aside on the lawful basis the same record names.
"""

from __future__ import annotations

from typing import Final

from broker.models import Agency, ConsentStatus

ALWAYS_TOLD: Final = frozenset({Agency.mash, Agency.socialcare})
"""Who still receives a risk event automatically when consent is refused."""


def withheld(consent: ConsentStatus, significant_harm: bool) -> bool:
    """Is automatic sharing (to agencies other than the MASH and social care) withheld?"""
    return consent == ConsentStatus.refused and not significant_harm


def may_share_automatically(
    agency: Agency, consent: ConsentStatus, significant_harm: bool, *, statutory: bool = False
) -> bool:
    """May the broker send this event to `agency` without a person deciding?"""
    return statutory or agency in ALWAYS_TOLD or not withheld(consent, significant_harm)


def recorded_consent(consent: ConsentStatus, significant_harm: bool) -> ConsentStatus:
    """The consent status a disclosure of this event records."""
    if significant_harm or consent == ConsentStatus.refused:
        return ConsentStatus.dispensed
    return consent
