"""Children who moved: the evidence that still holds links them, and never merges two children.

Each kind of evidence has a record that links with it and would not without it: a
postcode with one character keyed wrong, the family's new address (a brother or sister
recorded there since), and an address history that keeps the newest address. The twins
rule holds throughout: a twin's name one letter away is still a person's decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from broker.identity import IdentityIndex, Level, Outcome, PersonRecord, Reason
from broker.identity.scoring import compare_postcode

OLD, NEW = "PL1 8UU", "TQ9 4XB"

AVA = PersonRecord("Ava", "Penhaligon", date(2014, 5, 17), postcode=OLD, sex="F")
LEO = PersonRecord("Leo", "Penhaligon", date(2011, 9, 2), postcode=OLD, sex="M")


def family(*, leo_moved: bool) -> IdentityIndex:
    """Ava and her brother Leo at the old address; Leo's new address learnt, or not."""
    index = IdentityIndex()
    index.add("ava", AVA)
    index.add("leo", LEO)
    if leo_moved:  # e.g. a health record of Leo, linked on his NHS number
        index.add("leo", replace(LEO, postcode=NEW))
    return index


# -- a postcode keyed wrong ---------------------------------------------------------------


def test_a_postcode_with_one_character_keyed_wrong_is_a_typing_error() -> None:
    assert compare_postcode("PL18UU", "PL78UU") is Level.FUZZY  # the district's digit
    assert compare_postcode("PL18UU", "PL18YU") is Level.FUZZY  # one letter of the unit
    assert compare_postcode("PL18UU", "PL1U8U") is Level.FUZZY  # two neighbours swapped
    assert compare_postcode("PL18UU", "TQ98UU") is Level.DISAGREE  # two characters
    assert compare_postcode("PL18UU", "PL12AB") is Level.DISTRICT


def test_a_mistyped_postcode_no_longer_counts_against_a_record_with_typing_errors() -> None:
    index = IdentityIndex()
    index.add("tilly", replace(AVA, given_name="Matilda"))
    record = replace(AVA, given_name="Matidla", family_name="Penhalgion", postcode="PL7 8UU")
    decision = index.link(record)
    assert decision.outcome is Outcome.LINKED, decision.explain()
    assert decision.child_id == "tilly"
    assert dict(decision.levels)["postcode"] is Level.FUZZY
    assert "postcode agree allowing for typing errors" in decision.explain()


# -- the family's new address -------------------------------------------------------------


def test_a_child_links_at_the_address_her_brother_has_been_recorded_at_since() -> None:
    # a date of birth keyed wrong by one digit, and a new address: too little alone
    record = replace(AVA, date_of_birth=date(2014, 5, 18), postcode=NEW)
    assert family(leo_moved=False).link(record).outcome is not Outcome.LINKED
    decision = family(leo_moved=True).link(record)
    assert decision.outcome is Outcome.LINKED, decision.explain()
    assert decision.child_id == "ava"
    assert dict(decision.levels)["postcode"] is Level.HOUSEHOLD
    assert "the family moved" in decision.explain()


def test_a_namesake_of_another_family_at_that_address_gains_nothing() -> None:
    # a Penhaligon recorded at the new address who never lived with Ava is no evidence
    index = IdentityIndex()
    index.add("ava", AVA)
    stranger = PersonRecord("Jory", "Penhaligon", date(2009, 1, 5), postcode="PL4 6AA")
    index.add("jory", stranger)
    index.add("jory", replace(stranger, postcode=NEW))
    record = replace(AVA, date_of_birth=date(2014, 5, 18), postcode=NEW)
    decision = index.link(record)
    assert decision.outcome is not Outcome.LINKED
    assert dict(decision.levels)["postcode"] is Level.DISAGREE


def test_the_family_address_survives_a_restart_from_the_table() -> None:
    before = family(leo_moved=True)
    after = IdentityIndex()
    for child_id in ("leo", "ava"):  # any order
        after.from_state(before.to_state(child_id))
    record = replace(AVA, date_of_birth=date(2014, 5, 18), postcode=NEW)
    assert after.link(record).child_id == "ava"


# -- twins who moved ----------------------------------------------------------------------

MIA = PersonRecord("Mia", "Trelawny", date(2016, 2, 9), postcode=OLD, sex="F")
TIA = replace(MIA, given_name="Tia")


def test_a_twin_at_the_new_address_of_her_sister_links_to_herself() -> None:
    index = IdentityIndex()
    index.add("mia", MIA)
    index.add("tia", TIA)
    index.add("mia", replace(MIA, postcode=NEW))  # only Mia's new address is known yet
    decision = index.link(replace(TIA, postcode=NEW))
    # Tia fits Tia exactly at the family's new address; Mia only one letter apart
    assert decision.outcome is Outcome.LINKED, decision.explain()
    assert decision.child_id == "tia"


def test_a_twin_not_yet_known_is_never_merged_into_her_sister_who_moved() -> None:
    index = IdentityIndex()
    index.add("mia", MIA)
    index.add("mia", replace(MIA, postcode=NEW))
    decision = index.link(replace(TIA, postcode=NEW))
    assert decision.outcome is Outcome.REVIEW
    assert decision.reason is Reason.GIVEN_NAME_UNSURE


def test_a_sibling_of_the_same_family_and_date_at_the_new_address_is_not_linked() -> None:
    index = IdentityIndex()
    index.add("ava", AVA)
    index.add("leo", LEO)
    index.add("leo", replace(LEO, postcode=NEW))
    twin = replace(AVA, given_name="Ivy")  # Ava's twin, not yet known
    decision = index.link(replace(twin, postcode=NEW))
    assert decision.outcome is Outcome.NEW
    assert decision.siblings == ("ava",)


# -- an address history -------------------------------------------------------------------


def test_the_newest_address_is_kept_when_the_history_is_full() -> None:
    index = IdentityIndex()
    index.add("ava", AVA)
    for n in range(2, 8):  # six more addresses: one more than a child keeps
        index.add("ava", replace(AVA, postcode=f"PL{n} 1AB"))
    assert index.to_state("ava")["postcodes"][-1] == "PL71AB"
    record = replace(AVA, date_of_birth=date(2014, 5, 18), postcode="PL7 1AB")
    decision = index.link(record)
    assert dict(decision.levels)["postcode"] is Level.EXACT
    assert decision.child_id == "ava"


def test_an_earlier_address_still_counts_as_the_childs_own() -> None:
    index = IdentityIndex()
    index.add("ava", AVA)
    index.add("ava", replace(AVA, postcode=NEW))
    decision = index.link(replace(AVA, date_of_birth=date(2014, 5, 18)))  # the old one
    assert dict(decision.levels)["postcode"] is Level.EXACT
    assert decision.child_id == "ava"
