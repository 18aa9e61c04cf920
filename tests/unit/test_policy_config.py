"""The partnership configuration: defaults are rules.md; a bad file stops the broker with
an error naming the field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from broker.config.partnership import load_config
from broker.errors import ConfigurationError
from broker.models import Agency, Concern
from tests.unit.test_rules_support import alerts, at, feed, vist

DEFAULT = Path(__file__).resolve().parents[2] / "broker" / "data" / "partnership.json"


def write(tmp_path: Path, change: dict[str, Any]) -> Path:
    raw = json.loads(DEFAULT.read_text())
    for dotted, value in change.items():
        *path, last = dotted.split(".")
        node = raw
        for part in path:
            node = node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    target = tmp_path / "partnership.json"
    target.write_text(json.dumps(raw))
    return target


_DELETE = object()


def test_the_defaults_are_rules_md() -> None:
    config = load_config()
    limits, deadlines = config.thresholds, config.deadlines
    assert (limits.cumulative_concerns_every, limits.cumulative_concerns_window_days) == (3, 365)
    assert (limits.cumulative_neglect_every, limits.cumulative_neglect_window_days) == (2, 365)
    assert (limits.repeat_missing_every, limits.repeat_missing_window_days) == (3, 90)
    assert (limits.encompass_min_age, limits.encompass_max_age) == (4, 17)
    assert limits.referral_template_version == "3"
    assert deadlines.decision_urgent_working_hours == 4
    assert deadlines.school_file_school_days == 5
    assert deadlines.exploitation_screening_working_days == 5
    assert config.relevant_agencies[Concern.substance_misuse] == (Agency.substance_misuse,)
    assert config.relevant_agencies[Concern.domestic_abuse] == (Agency.police,)
    assert config.strategy_meeting_core == (Agency.socialcare, Agency.police, Agency.health)
    assert config.calendar.timezone == "Europe/London"
    assert "s.49A" in config.lawful_bases["operation_encompass"]


def test_a_partnership_file_may_change_a_threshold(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, {"thresholds.cumulative_neglect_every": 3}))
    events = [vist(at(f"2026-05-{d} 10:00"), concerns=["neglect"]) for d in (11, 12, 13)]
    _, records = feed(events, config=config)
    assert [a.triggered_by[0] for a in alerts(records, "CUMULATIVE_NEGLECT")] == [
        events[2].event_id
    ]


def test_extra_bank_holidays_and_term_dates(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            {
                "calendar.extra_bank_holidays": ["2026-05-20"],
                "calendar.school_terms": [
                    ["2026-04-13", "2026-05-22"],
                    ["2026-06-01", "2026-07-22"],
                ],
            },
        )
    )
    assert not config.calendar.is_working_day(date(2026, 5, 20))
    assert not config.calendar.is_school_day(date(2026, 5, 27))  # half term
    _, records = feed(
        [vist(at("2026-05-19 10:00"), "AMBER", ["neglect"])],
        until=at("2026-05-22 00:00"),
        config=config,
    )
    [overdue] = alerts(records, "DECISION_OVERDUE")
    assert overdue.due_by == at("2026-05-21 10:00")


def test_the_minimisation_table_may_be_another_file(tmp_path: Path) -> None:
    table = json.loads((DEFAULT.parent / "minimisation.json").read_text())
    table["recipients"]["school"]["events"]["police.vist"] = ["occurred_at"]
    (tmp_path / "table.json").write_text(json.dumps(table))
    config = load_config(write(tmp_path, {"minimisation": "table.json"}))
    assert config.minimisation.row(Agency.school).fields_for("police.vist") == ("occurred_at",)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"thresholds.cumulative_concerns_every": 0}, "thresholds.cumulative_concerns_every"),
        ({"thresholds.cumulative_concerns_evry": 3}, "thresholds.cumulative_concerns_evry"),
        ({"deadlines.decision_working_days": "one"}, "deadlines.decision_working_days"),
        ({"relevant_agencies.self_harm": ["cahms"]}, "relevant_agencies.self_harm"),
        ({"relevant_agencies.selfharm": ["camhs"]}, "relevant_agencies.selfharm"),
        ({"lawful_bases.operation_encompass": _DELETE}, "operation_encompass"),
        ({"calendar.timezone": "Europe/Londno"}, "calendar"),
        ({"calendar.workday_start": "25:00"}, "calendar.workday_start"),
        ({"thresholds.history_days": 100}, "history_days"),
        ({"minimisation": "missing.json"}, "missing.json"),
        ({"language_list": "missing.json"}, "missing.json"),
    ],
)
def test_a_bad_file_names_the_field(tmp_path: Path, change: dict, names: str) -> None:
    with pytest.raises(ConfigurationError, match=names.replace(".", r"\.")):
        load_config(write(tmp_path, change))


def test_not_json_says_where(tmp_path: Path) -> None:
    bad = tmp_path / "partnership.json"
    bad.write_text('{"version": 1,,}')
    with pytest.raises(ConfigurationError, match="line 1"):
        load_config(bad)


def test_the_configuration_is_frozen() -> None:
    config = load_config()
    with pytest.raises(ValueError, match="frozen"):
        config.name = "other"  # type: ignore[misc]
