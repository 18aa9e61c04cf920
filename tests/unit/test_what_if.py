"""`mash-broker what-if`: a lowered cumulative threshold adds exactly the alerts it should,
when it should; the same configuration shows no difference; a bad configuration is
refused, with its line and reason, before anything runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.council import Council
from broker.calendar.clock import ManualClock
from broker.cli.main import main
from broker.config.partnership import config_from, partnership_source
from broker.errors import ConfigurationError
from broker.pipeline.difference import Comparison, compare
from broker.pipeline.engine import replay_lines
from broker.pipeline.whatif import Outcomes, outcomes_of

LONDON = ZoneInfo("Europe/London")
DEFAULT = Path(__file__).resolve().parents[2] / "broker" / "data" / "partnership.json"
CC = "CUMULATIVE_CONCERNS"

OWEN = {"given_name": "Owen", "family_name": "Powell", "date_of_birth": "2012-07-21",
        "postcode": "PL1 1AA", "socialcare_id": "SC-2022"}  # fmt: skip
MIA = {"given_name": "Mia", "family_name": "Hughes", "date_of_birth": "2014-02-03",
       "postcode": "PL4 6QT", "socialcare_id": "SC-3141"}  # fmt: skip
POPPY = {"given_name": "Poppy", "family_name": "Evans", "date_of_birth": "2013-04-18",
         "postcode": "PL2 3DE", "socialcare_id": "SC-9001"}  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def concern(event_id: str, when: str, who: dict[str, str]) -> bytes:
    """A GP's concern about the child: a risk event that CUMULATIVE_CONCERNS counts."""
    instant = at(when).isoformat()
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "health.update",
            "source": {"agency": "health", "system": "health-records"},
            "occurred_at": instant,
            "recorded_at": instant,
            "subject": who,
            "update_id": f"H-{event_id}",
            "kind": "gp_concern",
            "setting": "University Hospitals Plymouth",
            "concerns": ["emotional_abuse"],
            "narrative": "Seen at the surgery.",
        }
    ).encode()


def lowered(tmp_path: Path, every: int = 2) -> Path:
    path = tmp_path / "new.toml"
    path.write_text(
        f"# two concerns are enough\n[thresholds]\ncumulative_concerns_every = {every}\n"
    )
    return path


def what_if(lines: list[bytes], config: Path, baseline: Path | None = None) -> Comparison:
    base_source = partnership_source(baseline)
    new_source = partnership_source(config, base=base_source)
    runs = outcomes_of(
        lines, {"baseline": config_from(base_source), "new": config_from(new_source)}
    )
    return compare(runs["baseline"], runs["new"])


def changes(c: Comparison) -> list[tuple[str, str, datetime | None, datetime | None, str]]:
    return [(a.change, a.rule, a.baseline_at, a.new_at, a.event_id) for a in c.alerts]


# -- three hand-made histories, cumulative_concerns_every lowered from 3 to 2 ----------


def test_one_child_three_concerns_is_flagged_a_month_sooner(tmp_path: Path) -> None:
    history = [
        concern("owen-1", "2026-01-10 10:00", OWEN),
        concern("owen-2", "2026-02-10 10:00", OWEN),
        concern("owen-3", "2026-03-10 10:00", OWEN),
    ]
    c = what_if(history, lowered(tmp_path))
    # the third concern's alert comes on the second instead; no other alert changes
    assert changes(c) == [("earlier", CC, at("2026-03-10 10:00"), at("2026-02-10 10:00"), "owen-2")]
    assert [(f.change, f.gained) for f in c.first_flags] == [("sooner", timedelta(days=28))]
    assert (c.baseline.alerts[CC], c.new.alerts[CC]) == (1, 1)
    assert c.disclosures == []


def test_two_children_one_sooner_with_one_more_alert_and_one_newly_flagged(
    tmp_path: Path,
) -> None:
    history = [
        concern("owen-1", "2026-01-10 10:00", OWEN),
        concern("owen-2", "2026-02-10 10:00", OWEN),
        concern("owen-3", "2026-03-10 10:00", OWEN),
        concern("owen-4", "2026-04-10 10:00", OWEN),  # BST: the times keep their offset
        concern("mia-1", "2026-05-01 09:30", MIA),
        concern("mia-2", "2026-05-08 14:15", MIA),
    ]
    c = what_if(history, lowered(tmp_path))
    assert changes(c) == [
        ("earlier", CC, at("2026-03-10 10:00"), at("2026-02-10 10:00"), "owen-2"),
        ("added", CC, None, at("2026-04-10 10:00"), "owen-4"),
        ("added", CC, None, at("2026-05-08 14:15"), "mia-2"),
    ]
    owen = c.alerts[0].child_id
    assert c.alerts[1].child_id == owen != c.alerts[2].child_id
    assert [(f.change, f.child_id, f.new_at) for f in c.first_flags] == [
        ("sooner", owen, at("2026-02-10 10:00")),
        ("newly flagged", c.alerts[2].child_id, at("2026-05-08 14:15")),
    ]
    assert (c.baseline.alerts[CC], c.new.alerts[CC]) == (1, 3)
    assert c.per_month["2026-02"] == (0, 1)
    assert c.per_month["2026-03"] == (1, 0)
    assert c.per_month["2026-05"] == (0, 1)


def test_concerns_more_than_a_year_apart_are_counted_in_their_window(tmp_path: Path) -> None:
    # three concerns over fourteen months: never three in 365 days, twice two
    history = [
        concern("poppy-1", "2025-01-10 10:00", POPPY),
        concern("poppy-2", "2025-06-10 11:00", POPPY),
        concern("poppy-3", "2026-03-10 12:00", POPPY),
    ]
    c = what_if(history, lowered(tmp_path))
    assert changes(c) == [
        ("added", CC, None, at("2025-06-10 11:00"), "poppy-2"),
        ("added", CC, None, at("2026-03-10 12:00"), "poppy-3"),
    ]
    assert CC not in c.baseline.alerts
    assert [f.change for f in c.first_flags] == ["newly flagged"]


# -- the same configuration: no difference --------------------------------------------


@pytest.fixture(scope="module")
def council() -> list[bytes]:
    return list(Council(seed=3, events=2500).lines())


def test_a_configuration_identical_to_the_baseline_reports_no_difference(
    tmp_path: Path, council: list[bytes]
) -> None:
    same = tmp_path / "same.toml"
    same.write_text("[thresholds]\ncumulative_concerns_every = 3\n")  # the default's value
    copy = tmp_path / "copy.json"
    copy.write_text(DEFAULT.read_text())
    for config in (same, copy):
        c = what_if(council, config)
        assert c.no_difference
        assert sum(c.baseline.alerts.values()) > 100  # a history where much happens
        assert c.baseline == c.new
    # ... where a lowered threshold does make a difference
    assert not what_if(council, lowered(tmp_path)).no_difference


def test_the_command_reports_no_difference_in_words_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"\n".join(concern(f"o-{i}", f"2026-0{i}-10 10:00", OWEN) for i in (1, 2, 3))
    )
    same = tmp_path / "same.toml"
    same.write_text("[thresholds]\ncumulative_concerns_every = 3\n")
    assert main(["what-if", "--config", str(same), str(events)]) == 0
    assert "No difference" in capsys.readouterr().out
    assert main(["what-if", "--config", str(lowered(tmp_path)), str(events), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["no_difference"] is False
    assert report["settings_changed"] == [
        {"setting": "thresholds.cumulative_concerns_every", "baseline": 3, "new": 2}
    ]
    assert [a["change"] for a in report["alert_changes"]] == ["earlier"]
    assert report["first_flags"][0]["gained_seconds"] == 28 * 86400


def test_both_runs_publish_exactly_what_separate_replays_publish(
    tmp_path: Path, council: list[bytes]
) -> None:
    """The link stage is shared between the configurations (it reads none): each run
    must still be, record for record, what `mash-broker replay` gives under it."""
    configs = {
        "baseline": config_from(partnership_source(None)),
        "new": config_from(partnership_source(lowered(tmp_path))),
    }
    together = outcomes_of(council, configs)
    for name, config in configs.items():
        alone = Outcomes()
        for record in replay_lines(council, ManualClock(), config=config):
            alone.note(record)
        assert together[name] == alone
    assert together["baseline"].alerts != together["new"].alerts


def test_the_html_report_charts_alerts_per_month_under_each_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"\n".join(concern(f"o-{i}", f"2026-0{i}-10 10:00", OWEN) for i in (1, 2, 3))
    )
    page = tmp_path / "what-if.html"
    argv = ["what-if", "--config", str(lowered(tmp_path)), str(events), "--html", str(page)]
    assert main(argv) == 0
    capsys.readouterr()
    html = page.read_text()
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert "alerts raised" in chart  # matplotlib's axis label, kept as text
    assert "2026-02" in chart
    assert "2026-03" in chart
    assert "<script" not in html  # self-contained: nothing fetched or run
    assert '<tr><td>2026-02</td><td class="n">0</td><td class="n">1</td></tr>' in html
    assert "28 days earlier" in html


def test_the_default_baseline_is_the_partnership_file_the_broker_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"\n".join(concern(f"o-{i}", f"2026-0{i}-10 10:00", OWEN) for i in (1, 2, 3))
    )
    monkeypatch.setenv("MASH_PARTNERSHIP_FILE", str(lowered(tmp_path)))  # runs: every 2
    assert main(["replay", str(events)]) == 0
    raised = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["value"]["triggered_by"][0] for r in raised if r["topic"] == "mash.alert.v1"] == [
        "o-2"
    ]
    back = tmp_path / "back.toml"
    back.write_text("[thresholds]\ncumulative_concerns_every = 3\n")
    assert main(["what-if", "--config", str(back), str(events), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["baseline_config"].endswith("new.toml")
    assert report["settings_changed"] == [
        {"setting": "thresholds.cumulative_concerns_every", "baseline": 2, "new": 3}
    ]
    assert [(a["change"], a["gained_seconds"]) for a in report["alert_changes"]] == [
        ("later", -28 * 86400)
    ]


# -- an invalid configuration is refused, with its line and reason, before anything ----


def test_an_invalid_configuration_is_refused_with_its_line_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "# what if\n[thresholds]\ncumulative_neglect_every = 0\ncumulative_concern_every = 2\n"
    )
    missing_events = tmp_path / "not-there.jsonl"  # never opened: the config is read first
    assert main(["what-if", "--config", str(bad), str(missing_events)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err
    assert "line 3: thresholds.cumulative_neglect_every: " in err
    assert "greater than or equal to 1" in err
    assert "line 4: thresholds.cumulative_concern_every: is not a setting" in err


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[thresholds\ncumulative_neglect_every = 1\n", "not valid TOML"),
        ("[thresholds]\nencompass_min_age = 18\n", "line 2: thresholds: encompass_min_age"),
        (
            "[thresholds]\ncumulative_neglect_window_days = 500\n",
            "line 1: thresholds: history_days: must cover",
        ),
        ('[deadlines]\ndecision_working_days = "one"\n', "line 2: deadlines.decision_working"),
    ],
)
def test_each_kind_of_bad_configuration_names_where_and_why(
    tmp_path: Path, text: str, reason: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ConfigurationError, match=reason):
        config_from(partnership_source(bad))


def test_a_bad_baseline_is_refused_too_and_a_json_file_names_its_line(tmp_path: Path) -> None:
    raw = json.loads(DEFAULT.read_text())
    raw["deadlines"]["school_file_school_days"] = 0
    baseline = tmp_path / "current.json"
    baseline.write_text(json.dumps(raw, indent=2))
    line = next(
        n
        for n, text in enumerate(baseline.read_text().splitlines(), start=1)
        if "school_file_school_days" in text
    )
    with pytest.raises(ConfigurationError, match=f"line {line}: deadlines.school_file_school_days"):
        config_from(partnership_source(baseline))
