"""UNSHARED_RISK and CONSENT_DECISION_REQUIRED: agencies involved that were not told."""

from __future__ import annotations

from broker.models import Agency, ConsentStatus
from tests.unit.test_rules_support import (
    alerts,
    at,
    audits,
    feed,
    health,
    involvement,
    notifications,
    record,
    rule_ids,
    vist,
    yot,
)

MON = at("2026-05-18 10:00")
TUE = at("2026-05-19 10:00")


def test_green_notice_about_a_child_in_need_whose_school_was_not_told() -> None:
    police = vist(TUE, "GREEN", ["emotional_abuse"])
    _, records = feed([record(MON), involvement(MON), police])
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.severity == "low"
    assert alert.unshared_with == [Agency.school]
    assert alert.triggered_by == [police.event_id]
    assert alert.due_by == at("2026-05-20 10:00")
    assert alert.child.socialcare_id == "SC-9001"
    assert alert.child.status == "child_in_need"
    assert "Poppy" in alert.summary
    # social care was told automatically, so it is not unshared
    assert [n.event_id for n in notifications(records, "socialcare")] == [police.event_id]


def test_no_alert_when_no_agency_is_involved() -> None:
    _, records = feed([vist(TUE, "AMBER", ["neglect"])])
    assert "UNSHARED_RISK" not in rule_ids(records)


def test_no_alert_when_every_agency_involved_was_told() -> None:
    # child in need, no school: social care is told automatically
    _, records = feed([record(MON), vist(TUE, "GREEN", ["neglect"])])
    assert "UNSHARED_RISK" not in rule_ids(records)


def test_the_publishing_agency_is_never_unshared() -> None:
    _, records = feed([involvement(MON, "police", team="Neighbourhood"), vist(TUE)])
    assert "UNSHARED_RISK" not in rule_ids(records)


def test_health_and_camhs_are_different_agencies() -> None:
    update = health(TUE, "mh_crisis", ["self_harm"])
    _, records = feed([involvement(MON, "camhs"), update])
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.unshared_with == [Agency.camhs]


def test_amber_is_medium() -> None:
    _, records = feed([involvement(MON), vist(TUE, "AMBER", ["neglect"])])
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.severity == "medium"


def test_a_child_on_a_plan_makes_it_medium() -> None:
    _, records = feed([record(MON, "child_protection_plan"), involvement(MON), vist(TUE)])
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.severity == "medium"


def test_significant_harm_is_high_and_due_in_four_working_hours() -> None:
    police = vist(TUE, "GREEN", ["physical_abuse"])
    _, records = feed([involvement(MON, "yot"), police])
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.severity == "high"
    assert alert.unshared_with == [Agency.yot]
    assert alert.due_by == at("2026-05-19 14:00")


def test_operation_encompass_counts_as_telling_the_school() -> None:
    _, records = feed([involvement(MON), vist(TUE, "AMBER", ["domestic_abuse"])])
    assert "UNSHARED_RISK" not in rule_ids(records)
    [note] = notifications(records, "school")
    assert "narrative" not in note.fields


def test_a_non_risk_event_is_never_unshared() -> None:
    # an emergency attendance without concerns is not a risk event
    _, records = feed([involvement(MON), health(TUE, "ed_attendance", [])])
    assert alerts(records) == []


def test_refused_consent_asks_the_mash_to_decide_instead() -> None:
    police = vist(TUE, "GREEN", ["emotional_abuse"], consent="refused")
    _, records = feed([record(MON), involvement(MON), police])
    assert "UNSHARED_RISK" not in rule_ids(records)
    [alert] = alerts(records, "CONSENT_DECISION_REQUIRED")
    assert alert.severity == "medium"
    assert alert.unshared_with == [Agency.school]
    assert alert.due_by == at("2026-05-20 10:00")
    # social care still gets it, and the audit says consent was set aside
    [note] = notifications(records, "socialcare")
    assert note.consent == ConsentStatus.dispensed
    assert all(a.consent == ConsentStatus.dispensed for a in audits(records))


def test_refused_consent_does_not_stop_operation_encompass() -> None:
    police = vist(TUE, "AMBER", ["domestic_abuse"], consent="refused")
    _, records = feed([involvement(MON), police])
    assert [n.to_agency for n in notifications(records)] == [Agency.school]
    assert alerts(records, "CONSENT_DECISION_REQUIRED") == []


def test_refused_consent_on_significant_harm_is_shared_and_dispensed() -> None:
    police = vist(TUE, "RED", ["sexual_abuse"], consent="refused")
    _, records = feed([record(MON), involvement(MON, "health"), police])
    assert "CONSENT_DECISION_REQUIRED" not in rule_ids(records)
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.severity == "high"
    assert alert.unshared_with == [Agency.health]
    [audit] = audits(records)
    assert audit.consent == ConsentStatus.dispensed
    assert "s.47" in audit.lawful_basis


def test_given_consent_is_recorded_as_given() -> None:
    _, records = feed([record(MON), vist(TUE, "GREEN", ["neglect"], consent="given")])
    [audit] = audits(records)
    assert audit.consent == ConsentStatus.given


def test_yot_referral_very_high_is_significant_harm() -> None:
    _, records = feed([involvement(MON), yot(TUE, ["offending"], risk_level="very_high")])
    [alert] = alerts(records, "UNSHARED_RISK")
    assert alert.severity == "high"
