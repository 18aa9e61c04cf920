"""What the index's own children tell about given names (broker/identity/given_names.py).

A spelling no child of a large index bears is a typing error and links (Level.TYPO);
one that a child of the record's sex bears, as near, is still a person's decision.
Two forms of one name that children are each first known by (Harrison, Harry), with
family name, date of birth and postcode agreeing as twins' do, are never merged.
The index here is small, so `Thresholds(names_from=...)` says how many children make
its silence count (10,000 by default).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from broker.identity import IdentityIndex, Level, Outcome, PersonRecord, Reason, Thresholds
from broker.identity.records import name_info
from broker.identity.scoring import compare_given

NOAH = PersonRecord("Noah", "Penhaligon", date(2013, 6, 1), postcode="PL1 8UU", sex="M")
MIA = PersonRecord("Mia", "Trelawny", date(2016, 2, 9), postcode="TQ9 4XB", sex="F")


def others(*names: tuple[str, str]) -> list[PersonRecord]:
    """Children of other families, born on other days, who bear these (name, sex)."""
    return [
        PersonRecord(name, f"Otherfam{i}", date(2008, 1, 1 + i), postcode="EX1 1AA", sex=sex)
        for i, (name, sex) in enumerate(names)
    ]


def index_with(
    child_id: str, record: PersonRecord, *names: tuple[str, str], names_from: int = 5
) -> IdentityIndex:
    index = IdentityIndex(Thresholds(names_from=names_from))
    index.add(child_id, record)
    for i, other in enumerate(others(*names)):
        index.add(f"other-{i}", other)
    return index


CHILDREN_OF_NOTE = (("Nora", "F"), ("Nia", "F"), ("Oliver", "M"), ("Ava", "F"), ("Tia", "F"))


# -- a typing error no child's name explains ---------------------------------------------------


def test_a_spelling_no_child_bears_is_a_typing_error_and_links() -> None:
    index = index_with("noah", NOAH, *CHILDREN_OF_NOTE)
    decision = index.link(replace(NOAH, given_name="Noha"))  # Nora is as near, but a girl's
    assert decision.outcome is Outcome.LINKED, decision.explain()
    assert decision.child_id == "noah"
    assert dict(decision.levels)["given_name"] is Level.TYPO
    assert "a spelling no known child bears" in decision.explain()


def test_a_typing_error_at_the_first_letter_or_of_a_short_name_links_too() -> None:
    index = index_with("mia", MIA, *CHILDREN_OF_NOTE)
    for typed in ("Mja", "Miaa", "Xmia"):
        decision = index.link(replace(MIA, given_name=typed))
        assert decision.child_id == "mia", (typed, decision.explain())


def test_a_spelling_as_near_to_a_name_a_child_of_that_sex_bears_still_goes_to_review() -> None:
    index = index_with("mia", MIA, *CHILDREN_OF_NOTE)
    decision = index.link(replace(MIA, given_name="Xia"))  # Mia, or Tia mistyped?
    assert decision.outcome is Outcome.REVIEW
    assert decision.reason is Reason.GIVEN_NAME_UNSURE


def test_without_the_records_sex_any_child_bearing_a_name_as_near_counts() -> None:
    index = index_with("noah", NOAH, *CHILDREN_OF_NOTE)
    decision = index.link(replace(NOAH, given_name="Noha", sex=None))  # a twin Nora?
    assert decision.outcome is Outcome.REVIEW
    assert decision.reason is Reason.GIVEN_NAME_UNSURE


def test_the_name_itself_borne_by_a_child_is_a_name_not_a_typing_error() -> None:
    index = index_with("mia", MIA, *CHILDREN_OF_NOTE)
    decision = index.link(replace(MIA, given_name="Tia"))  # Mia's twin, not yet known
    assert decision.outcome is Outcome.REVIEW
    assert decision.reason is Reason.GIVEN_NAME_UNSURE


def test_a_small_index_keeps_the_fixed_rules() -> None:
    index = index_with("noah", NOAH, *CHILDREN_OF_NOTE, names_from=10_000)
    decision = index.link(replace(NOAH, given_name="Noha"))
    assert decision.outcome is Outcome.REVIEW
    assert decision.reason is Reason.GIVEN_NAME_UNSURE


# -- two forms of one name, each a child's name ------------------------------------------------

HARRY = PersonRecord("Harry", "Spencer", date(2011, 9, 20), postcode="PL29 3XT")


def test_twins_named_as_two_forms_of_one_name_are_never_merged() -> None:
    """Harrison and Harry are one name in names.py; other children are first known by
    each, so they are names in their own right, and Harry's twin may be a Harrison."""
    index = index_with("harry", HARRY, ("Harrison", "M"), ("Harry", "M"))
    decision = index.link(replace(HARRY, given_name="Harrison"))
    assert decision.outcome is Outcome.REVIEW, decision.explain()
    assert decision.reason is Reason.TWIN_NAMES
    assert decision.candidates == ("harry",)
    assert "as twins' do" in decision.explain()


def test_a_short_form_no_child_is_first_known_by_links() -> None:
    william = replace(HARRY, given_name="William")
    index = index_with("will", william, ("Harrison", "M"), ("William", "M"))
    decision = index.link(replace(william, given_name="Will"))
    assert decision.outcome is Outcome.LINKED, decision.explain()
    assert decision.child_id == "will"


def test_two_spellings_that_sound_alike_are_one_name_and_link() -> None:
    lily = replace(HARRY, given_name="Lily")
    index = index_with("lily", lily, ("Lilly", "F"), ("Lily", "F"))
    decision = index.link(replace(lily, given_name="Lilly"))
    assert decision.outcome is Outcome.LINKED, decision.explain()


def test_forms_of_a_name_at_another_address_are_no_twins() -> None:
    index = index_with("harry", HARRY, ("Harrison", "M"), ("Harry", "M"))
    decision = index.link(replace(HARRY, given_name="Harrison", postcode="TQ1 2AB"))
    assert decision.outcome is not Outcome.REVIEW or decision.reason is not Reason.TWIN_NAMES


def test_alf_is_a_short_form_of_alfie() -> None:
    assert compare_given(name_info("Alf"), name_info("Alfie")) is Level.VARIANT
    assert compare_given(name_info("Gabby"), name_info("Gabriella")) is Level.VARIANT
    assert compare_given(name_info("Annie"), name_info("Annabelle")) is Level.VARIANT


# -- a family name's typing error, weighed by how common the name is -----------------------------


def test_a_typing_error_in_a_rare_family_name_weighs_more_than_in_a_common_one() -> None:
    index = IdentityIndex()
    smith = PersonRecord("Oliver", "Smith", date(2012, 3, 4), postcode="PL1 8UU", sex="M")
    rare = replace(smith, family_name="Penhaligon", date_of_birth=date(2012, 3, 5))
    index.add("smith", smith)
    index.add("rare", rare)
    for i in range(300):  # a common family name
        index.add(f"s{i}", PersonRecord("Jo", "Smith", date(2001, 1, 1 + i % 28)))
    common_typo = index.link(replace(smith, family_name="Smiht"))
    rare_typo = index.link(replace(rare, family_name="Penhaligom"))
    assert dict(common_typo.levels)["family_name"] is Level.FUZZY
    assert dict(rare_typo.levels)["family_name"] is Level.FUZZY
    assert rare_typo.score is not None
    assert common_typo.score is not None
    assert rare_typo.score > common_typo.score + 2


# -- a typing error learnt as an alias ----------------------------------------------------------


def test_a_sisters_name_one_letter_from_a_learnt_misspelling_is_not_linked() -> None:
    """Kacper's record "Hacper" (linked on his NHS number) taught the index that
    spelling; his twin sister Harper is one letter from it, but a typo of a typo is no
    evidence: she is a different child (bench.linkage --learn, seed 7, merged them)."""
    kacper = PersonRecord("Kacper", "Turner", date(2010, 6, 23), postcode="PL11 9LD", sex="M")
    index = IdentityIndex()
    index.add("kacper", replace(kacper, nhs_number="9434765919"))
    index.add("kacper", replace(kacper, given_name="Hacper", nhs_number="9434765919"))
    assert index.link(replace(kacper, given_name="Hacper")).child_id == "kacper"  # exactly
    decision = index.link(replace(kacper, given_name="Harper", sex="F"))
    assert decision.outcome is not Outcome.LINKED, decision.explain()
