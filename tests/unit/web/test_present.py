"""The page's wording of times, rules, agencies and values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from broker.models import RuleId
from broker.web import present


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(minutes=-1), "Overdue by 1 min"),
        (timedelta(0), "Overdue by under a minute"),
        (timedelta(hours=-50), "Overdue by 2 days 2 h"),
        (timedelta(days=-1), "Overdue by 1 day"),
        (timedelta(hours=3, minutes=20), "3 h 20 min left"),
        (timedelta(hours=2), "2 h left"),
        (timedelta(seconds=30), "under a minute left"),
        (None, "No deadline"),
    ],
)
def test_time_left(span: timedelta | None, text: str) -> None:
    assert present.time_left(span) == text


def test_every_rule_has_a_title() -> None:
    assert all(present.rule_title(r) != r.value for r in RuleId)
    assert present.rule_title("SOMETHING_NEW") == "SOMETHING_NEW"


def test_times_are_shown_in_england() -> None:
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert present.local_time(summer) == "Wed 1 Jul 2026 10:00"
    assert present.local_time(None) == "—"


def test_names_of_agencies_statuses_fields_and_identifiers() -> None:
    assert present.agency_title("socialcare") == "Children's social care"
    assert present.agency_title("camhs") == "CAMHS"
    assert present.status_title("child_in_need") == "A child in need"
    assert present.status_title(None) == "Not known to children's social care"
    assert present.field_title("child.upn") == "child's unique pupil number"
    assert present.field_title("vist_id") == "vist id"
    assert present.identifier_title("nhs_number") == "NHS number"
    assert present.concern_title("child_criminal_exploitation") == "Child criminal exploitation"


def test_values_read_as_words() -> None:
    assert present.value_text(True) == "yes"
    assert present.value_text(["domestic_abuse", "neglect"]) == "domestic abuse, neglect"
    assert present.value_text({"urn": "1", "name": "Ford Primary"}) == "urn: 1; name: Ford Primary"
    assert present.value_text("2026-07-01T09:00:00+00:00") == "Wed 1 Jul 2026 10:00"
    assert present.value_text("Found alone at home.") == "Found alone at home."
    assert present.value_text(None) == "—"
    assert present.age(date(2013, 4, 18), date(2026, 4, 17)) == 12
