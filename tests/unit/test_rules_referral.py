"""REFERRAL_INCOMPLETE (and its feedback) and language review feedback."""

from __future__ import annotations

import pytest

from broker.models import Agency
from broker.rules.referral import word_count
from tests.unit.test_rules_support import (
    alerts,
    at,
    feed,
    feedback,
    health,
    notifications,
    record,
    vist,
    yot,
)

TUE = at("2026-05-19 15:00")
FOURTEEN = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
FIFTEEN = FOURTEEN + " fifteen"
NINE = "one two three four five six seven eight nine"


def fields_of(records: list) -> list[str]:
    [fb] = feedback(records, "incomplete")
    return [p.field for p in fb.problems]


def test_a_complete_referral_gets_no_alert_and_no_feedback() -> None:
    _, records = feed([yot(TUE)])
    assert alerts(records, "REFERRAL_INCOMPLETE") == []
    assert feedback(records) == []


def test_missing_impact_on_child() -> None:
    referral = yot(TUE, impact_on_child=None)
    _, records = feed([referral])
    [alert] = alerts(records, "REFERRAL_INCOMPLETE")
    assert alert.severity == "low"
    assert alert.triggered_by == [referral.event_id]
    assert alert.summary.endswith("incomplete: the analysis of the impact on Poppy is missing.")
    assert "Ask " in alert.recommended_action
    assert "analyse the impact on Poppy's lived experience" in alert.recommended_action
    [fb] = feedback(records, "incomplete")
    assert fb.to_agency == Agency.yot
    assert fb.event_id == referral.event_id
    assert [p.field for p in fb.problems] == ["impact_on_child"]
    assert "missing" in fb.problems[0].message


def test_the_old_template() -> None:
    _, records = feed([yot(TUE, template_version="2")])
    assert fields_of(records) == ["template_version"]


def test_a_missing_template_version_is_not_the_current_one() -> None:
    _, records = feed([yot(TUE, template_version=None)])
    assert fields_of(records) == ["template_version"]


@pytest.mark.parametrize(("text", "deficient"), [(NINE, True), (NINE + " ten", False)])
def test_concern_summary_needs_ten_words(text: str, deficient: bool) -> None:
    _, records = feed([yot(TUE, concern_summary=text)])
    assert bool(feedback(records, "incomplete")) is deficient


@pytest.mark.parametrize(("text", "deficient"), [(FOURTEEN, True), (FIFTEEN, False)])
def test_impact_on_child_needs_fifteen_words(text: str, deficient: bool) -> None:
    _, records = feed([yot(TUE, impact_on_child=text)])
    assert bool(feedback(records, "incomplete")) is deficient


def test_mental_health_impact_is_needed_only_with_mental_health_or_self_harm() -> None:
    _, without = feed([yot(TUE, ["offending"])])
    assert feedback(without, "incomplete") == []
    _, missing = feed([yot(TUE, ["offending", "self_harm"])])
    assert fields_of(missing) == ["mental_health_impact"]
    _, short = feed([yot(TUE, ["mental_health"], mental_health_impact=FOURTEEN)])
    assert fields_of(short) == ["mental_health_impact"]
    _, enough = feed([yot(TUE, ["mental_health"], mental_health_impact=FIFTEEN)])
    assert feedback(enough, "incomplete") == []


def test_every_deficient_field_is_named() -> None:
    referral = yot(
        TUE,
        ["self_harm"],
        template_version="2",
        concern_summary="Short.",
        impact_on_child=None,
    )
    _, records = feed([referral])
    assert fields_of(records) == [
        "template_version",
        "concern_summary",
        "impact_on_child",
        "mental_health_impact",
    ]
    assert len(alerts(records, "REFERRAL_INCOMPLETE")) == 1


def test_an_incomplete_referral_still_flows() -> None:
    _, records = feed([record(at("2026-05-18 10:00")), yot(TUE, impact_on_child=None)])
    assert [n.to_agency for n in notifications(records)] == [Agency.socialcare]


@pytest.mark.parametrize(
    ("text", "n"),
    [("", 0), (None, 0), ("one", 1), ("self-harm is one word", 4), ("  a  b\nc ", 3), ("it's", 1)],
)
def test_word_count(text: str | None, n: int) -> None:
    assert word_count(text) == n


def test_language_review_names_each_phrase_and_the_better_wording() -> None:
    police = vist(
        TUE,
        "GREEN",
        ["child_criminal_exploitation"],
        narrative="Officers believe he was recruited and is a drug runner for a county line.",
    )
    _, records = feed([police])
    [fb] = feedback(records, "language")
    assert fb.to_agency == Agency.police
    assert fb.event_id == police.event_id
    text = " ".join(p.message for p in fb.problems)
    assert "recruited" in text
    assert "criminally exploited" in text
    assert "drug runner" in text
    assert all(p.field == "narrative" for p in fb.problems)
    assert "county line" not in text  # the narrative itself is never quoted


def test_language_review_reads_referral_fields_and_never_blocks() -> None:
    referral = yot(TUE, impact_on_child=FIFTEEN + " and she is putting herself at risk")
    _, records = feed([record(at("2026-05-18 10:00")), referral])
    [fb] = feedback(records, "language")
    assert [p.field for p in fb.problems] == ["impact_on_child"]
    assert notifications(records, "socialcare")


def test_clean_text_gets_no_language_feedback() -> None:
    _, records = feed([health(TUE, "mh_crisis", [], narrative="Seen by the liaison team.")])
    assert feedback(records, "language") == []
