"""The manager's timeliness page: the report over the page's own views, a chart per
measure (matplotlib PNGs), CSV; refused to a practitioner and to an auditor."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime

import pytest
from starlette.testclient import TestClient

from broker.oversight.timeliness import MEASURES, TimelinessReport, timeliness
from broker.web.http import WebContext
from broker.web.oversight import report_window
from tests.unit.web.world import CONFIG, NOW


def _demo_report(ctx: WebContext, start: str, end: str) -> TimelinessReport:
    tz = CONFIG.calendar.tz
    return timeliness(
        ctx.views.all_pictures(),
        ctx.views.all_alerts(),
        ctx.views.all_disclosures(),
        CONFIG,
        start=datetime.fromisoformat(start).replace(tzinfo=tz),
        end=datetime.fromisoformat(end).replace(tzinfo=tz),
        as_of=NOW,
    )


def test_the_manager_sees_every_measure_with_its_chart_and_table(
    client: TestClient, as_user: Callable[[str], str], ctx: WebContext
) -> None:
    as_user("priya")
    page = client.get("/report")
    assert page.status_code == 200
    charts = re.findall(r'<img class="report-chart" src="([^"]+)" alt="([^"]+)"', page.text)
    assert len(charts) == len(MEASURES)
    for measure in MEASURES:
        assert f'id="m-{measure.key}"' in page.text
        assert f'data-measure="{measure.key}"' in page.text
    # the default window: six months to the end of this one (NOW is 25 November 2026)
    assert 'value="2026-06-01"' in page.text
    assert 'value="2026-12-01"' in page.text
    src, alt = charts[1]
    assert src == "/report/charts/decision_urgent.png?from=2026-06-01&amp;to=2026-12-01"
    assert alt.startswith("Chart of mash decisions within 4 working hours")
    png = client.get(src.replace("&amp;", "&"))
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png.content) > 5_000  # drawn, not an empty image


def test_the_page_shows_the_figures_the_report_computes(
    client: TestClient, as_user: Callable[[str], str], ctx: WebContext
) -> None:
    as_user("priya")
    report = _demo_report(ctx, "2026-06-01", "2026-12-01")
    decided = report.totals("decision_day")
    assert decided.total > 0  # the demo has decisions due in a working day
    page = client.get("/report").text
    table = page.split('data-measure="decision_day"')[1].split("</table>")[0]
    cells = [
        re.findall(r"<td>([^<]*)</td>", row)
        for row in re.findall(r"<tr><td>.*?</tr>", table, flags=re.S)
    ]
    assert sum(int(c[2]) for c in cells) == decided.total
    assert sum(int(c[3]) for c in cells) == decided.in_time
    assert sum(int(c[4]) for c in cells) == decided.late


def test_the_csv_is_the_report(
    client: TestClient, as_user: Callable[[str], str], ctx: WebContext
) -> None:
    as_user("priya")
    answer = client.get("/report.csv?from=2026-01-01&to=2027-01-01")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "timeliness-2026-01-01-2027-01-01.csv" in answer.headers["content-disposition"]
    assert answer.text == _demo_report(ctx, "2026-01-01", "2027-01-01").to_csv()
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["measure"] for r in rows} >= {"contacts", "decision_day", "encompass"}


@pytest.mark.parametrize("path", ["/report", "/report.csv", "/report/charts/contacts.png"])
@pytest.mark.parametrize("username", ["sam", "ines"])
def test_a_practitioner_and_an_auditor_are_refused_the_report(
    client: TestClient, as_user: Callable[[str], str], path: str, username: str
) -> None:
    as_user(username)
    answer = client.get(path)
    assert answer.status_code == 403
    assert "Your role does not give you access to this page." in answer.text
    assert "Timeliness" not in answer.text.split("<main")[0]  # not offered in the menu


def test_the_report_needs_a_login(client: TestClient) -> None:
    assert client.get("/report").headers["location"] == "/login?next=/report"


@pytest.mark.parametrize(
    "query", ["/report?from=yesterday", "/report?from=2026-05-01&to=2026-04-01"]
)
def test_a_bad_period_is_refused(
    client: TestClient, as_user: Callable[[str], str], query: str
) -> None:
    as_user("priya")
    assert client.get(query).status_code == 400


def test_an_unknown_measure_has_no_chart(client: TestClient, as_user: Callable[[str], str]) -> None:
    as_user("priya")
    assert client.get("/report/charts/nothing.png").status_code == 404


def test_the_default_window_is_six_months_to_the_end_of_this_one() -> None:
    today = datetime(2026, 1, 15).date()
    start, end = report_window({}, today)
    assert (start.isoformat(), end.isoformat()) == ("2025-08-01", "2026-02-01")
