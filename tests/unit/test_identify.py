"""The link stage with the matcher: events from different agencies join one child."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from broker.identity import IdentityIndex, Outcome
from broker.models.events import parse_event
from broker.pipeline.identify import identify
from tests.unit.test_ingest import GOOD


def event(event_id: str, **subject: Any) -> Any:
    data = deepcopy(GOOD)
    data["event_id"] = event_id
    data["subject"].update(subject)
    return parse_event(data)


def test_a_police_event_without_ids_joins_the_social_care_child() -> None:
    index = IdentityIndex()
    first = identify(index, event("soc-1", socialcare_id="SC-9001"))
    assert first.decision.outcome is Outcome.NEW
    second = identify(index, event("pol-2"))  # same names, dob, postcode; no identifier
    assert second.child_id == first.child_id
    assert "date of birth" in second.note


def test_new_child_ids_are_deterministic_and_carry_no_personal_data() -> None:
    a = identify(IdentityIndex(), event("pol-1")).child_id
    b = identify(IdentityIndex(), event("pol-1")).child_id
    assert a == b
    assert a is not None
    assert "Tia" not in a
    assert "2011" not in a


def test_a_twin_is_another_child() -> None:
    index = IdentityIndex()
    tia = identify(index, event("pol-1"))
    twin = identify(index, event("pol-2", given_name="Grace"))
    assert twin.decision.outcome is Outcome.NEW
    assert twin.child_id != tia.child_id


def test_a_twin_named_one_letter_apart_is_not_joined_to_the_other() -> None:
    index = IdentityIndex()
    tia = identify(index, event("pol-1"))  # Tia Lewis, no identifier
    mia = identify(index, event("pol-2", given_name="Mia"))  # "tia" is not a recognised name
    assert mia.decision.outcome is not Outcome.LINKED
    assert mia.child_id != tia.child_id
    assert mia.decision.outcome is Outcome.REVIEW  # a typing error, or Tia's twin?
    assert mia.child_id is None
    assert mia.changed == ()


def test_a_contradicting_nhs_number_goes_to_review_unlinked() -> None:
    index = IdentityIndex()
    identify(index, event("h-1", nhs_number="9434765919"))
    far = identify(index, event("h-2", nhs_number="9434765919", date_of_birth="2014-09-30"))
    assert far.decision.outcome is Outcome.REVIEW
    assert far.child_id is None
    assert far.changed == ()
