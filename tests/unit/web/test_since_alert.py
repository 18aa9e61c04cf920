"""The alert page beside the picture now: what changed since the alert was raised, the
late record marked (in the comparison and in the chronology)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from broker.web.http import WebContext
from broker.web.since import since_alert
from broker.web.views import AlertSeen, PictureSeen
from tests.unit.web.world import World, late_record_world


def test_a_record_recorded_before_the_alert_but_received_after_it_is_late() -> None:
    late = late_record_world()
    [alert] = late.alerts
    assert alert.context is not None
    assert alert.context.status is None  # the snapshot: not known to social care
    picture = late.pictures[alert.child.child_id]
    since = since_alert(alert, picture)
    care = next(c for c in since.changes if c.what == "Social care")
    assert care.then == "Not known to children's social care"
    assert care.now.startswith("On a child protection plan since")
    assert "Jo Patel" in care.now
    assert (care.event_id, care.late) == ("late-soc-nia", True)
    assert care.recorded_at is not None
    assert care.recorded_at < alert.raised_at
    agencies = next(c for c in since.changes if c.what == "Agencies involved")
    assert (agencies.then, agencies.now) == ("School", "School, Children's social care")
    assert since.late == {"late-soc-nia"}
    assert since.after == frozenset()


def test_an_alert_whose_picture_has_not_changed_says_so(world: World) -> None:
    alert = world.alert("SCHOOL_FILE_NOT_TRANSFERRED", "Ruby")
    since = since_alert(alert, world.pictures[alert.child.child_id])
    assert since.changes == []
    assert since.late == frozenset()


def test_the_alert_page_shows_the_snapshot_beside_the_picture_now(
    client: TestClient, as_user: Callable[[str], str], ctx: WebContext
) -> None:
    late = late_record_world()
    [alert] = late.alerts
    ctx.views.apply(AlertSeen(alert))
    for child_id, picture in late.pictures.items():
        ctx.views.apply(PictureSeen(child_id, picture))
    as_user("sam")
    page = client.get(f"/alerts/{alert.alert_id}").text
    known = page.split('id="known-title"')[1].split("</section>")[0]
    assert "Not known to children" in known
    since = page.split('id="since-title"')[1].split("</section>")[0]
    assert "What has changed since it was raised" in since
    row = re.search(r"<th scope=\"row\">Social care</th>(.*?)</tr>", since, flags=re.S)
    assert row is not None
    assert "Not known to children&#39;s social care" in row.group(1)
    assert "On a child protection plan since" in row.group(1)
    assert "Late record" in row.group(1)
    chronology = page.split('id="chronology-title"')[1].split("</section>")[0]
    status_row = re.search(r"<tr[^>]*>((?:(?!</tr>).)*Social care status(?:(?!</tr>).)*)</tr>",
                           chronology, flags=re.S)  # fmt: skip
    assert status_row is not None
    assert "late record" in status_row.group(1)


def test_an_unchanged_alert_page_says_nothing_has_changed(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("sam")
    alert = world.alert("SCHOOL_FILE_NOT_TRANSFERRED", "Ruby")
    page = client.get(f"/alerts/{alert.alert_id}").text
    assert "Nothing shown above has changed since the alert was raised." in page
    assert "late record" not in page
