"""The auditor's disclosure and access log: what it lists, its filters, every read of it
audited; the auditor refused the casework, a practitioner refused the log."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from broker.models import AccessAudit, Agency
from broker.web.http import WebContext
from broker.web.views import AccessSeen, DisclosureSeen
from tests.unit.web.world import FakePublisher, World, access_record

ACCESS = "audit.access.v1"


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-kind="(told|saw)">', html)


def fold_accesses(publisher: FakePublisher, ctx: WebContext) -> list[AccessAudit]:
    """What the feed would do: the access records the page published, read back."""
    found = [a for a in publisher.on(ACCESS) if isinstance(a, AccessAudit)]
    for access in found:
        ctx.views.apply(AccessSeen(access))
    return found


def test_the_auditor_lands_on_the_log_of_every_disclosure_with_its_lawful_basis(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("ines")
    assert client.get("/").headers["location"] == "/audit"
    assert client.get("/login").headers["location"] == "/audit"
    page = client.get("/audit")
    assert page.status_code == 200
    assert rows(page.text) == ["told"] * len(world.disclosures)
    told = world.disclosures[0]
    assert told.lawful_basis.split(";")[0] in page.text
    assert "Children&#39;s social care told" in page.text
    assert "Decided by the rules (risk event to social care)" in page.text
    assert f"{len(world.disclosures)} entries." in page.text


def test_each_read_of_the_log_is_audited_child_by_child(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("ines")
    client.get("/audit")
    reads = publisher.on(ACCESS)
    assert {(a.user, a.role, a.what) for a in reads} == {("ines", "auditor", "audit_log")}
    assert sorted(a.child_id for a in reads) == sorted({d.child_id for d in world.disclosures})
    client.get("/audit?agency=school")
    school = {d.child_id for d in world.disclosures if d.to_agency.value == "school"}
    assert {a.child_id for a in publisher.on(ACCESS)[len(reads) :]} == school


def test_views_of_records_appear_with_who_saw_them_and_filter_by_worker(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    publisher: FakePublisher,
    ctx: WebContext,
) -> None:
    as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    client.get(f"/alerts/{alert.alert_id}")
    client.cookies.clear()
    as_user("ines")
    [seen] = fold_accesses(publisher, ctx)
    page = client.get("/audit?worker=sam").text
    assert rows(page) == ["saw"]
    assert "Sam Reed (sam)" in page
    assert "an alert, with the child&#39;s record" in page
    assert "practitioner on the MASH page" in page
    assert "Lily" in page
    assert rows(client.get("/audit?worker=Reed&kind=told").text) == []
    assert rows(client.get("/audit?worker=nobody").text) == []
    # the auditor's own read of the log is in the log too
    fold_accesses(publisher, ctx)
    assert "Ines Ward (ines)" in client.get("/audit?worker=ines").text
    assert seen.child_id == alert.child.child_id


def test_the_log_filters_by_agency_and_date(
    client: TestClient, as_user: Callable[[str], str], world: World, ctx: WebContext
) -> None:
    as_user("ines")
    to_school = world.disclosures[0].model_copy(
        update={"disclosure_id": "dsc-school", "to_agency": Agency.school, "decided_by": "Sam Reed"}
    )
    ctx.views.apply(DisclosureSeen(to_school))
    page = client.get("/audit?agency=school").text
    assert rows(page) == ["told"]
    assert "School told" in page
    assert "Decided by Sam Reed" in page
    assert len(rows(client.get("/audit?agency=socialcare").text)) == len(world.disclosures)
    first = min(d.disclosed_at for d in world.disclosures).date()
    day = [d for d in [*world.disclosures, to_school] if d.disclosed_at.date() == first]
    page = client.get(f"/audit?from={first.isoformat()}&to={first.isoformat()}").text
    assert len(rows(page)) == len(day)
    assert rows(client.get("/audit?from=2030-01-01").text) == []


@pytest.mark.parametrize("query", ["agency=martians", "from=soon", "kind=everything"])
def test_a_filter_that_is_not_one_is_refused(
    client: TestClient, as_user: Callable[[str], str], query: str
) -> None:
    as_user("ines")
    assert client.get(f"/audit?{query}").status_code == 400


def test_the_auditor_cannot_open_the_casework(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    publisher: FakePublisher,
) -> None:
    token = as_user("ines")
    alert = world.alert("UNSHARED_RISK", "Lily")
    for path in (
        "/queue",
        "/queue/rows",
        f"/alerts/{alert.alert_id}",
        f"/children/{alert.child.child_id}",
    ):
        assert client.get(path).status_code == 403, path
    answer = client.post(
        f"/alerts/{alert.alert_id}/decision",
        data={"csrf_token": token, "decision": "share", "rationale": "x", "share_with": ["school"]},
    )
    assert answer.status_code == 403
    assert publisher.sent == []  # nothing seen, nothing decided
    menu = client.get("/audit").text.split("<main")[0]
    assert "Alert queue" not in menu
    assert "Disclosure log" in menu


def test_a_practitioner_is_refused_the_log(
    client: TestClient, as_user: Callable[[str], str], publisher: FakePublisher
) -> None:
    as_user("sam")
    assert client.get("/audit").status_code == 403
    assert publisher.on(ACCESS) == []


def test_a_manager_may_read_the_log(client: TestClient, as_user: Callable[[str], str]) -> None:
    as_user("priya")
    assert client.get("/audit").status_code == 200


def test_an_access_is_kept_for_the_log_without_waking_the_queue(ctx: WebContext) -> None:
    views = ctx.views
    before = views.version
    access = access_record()
    assert views.apply(AccessSeen(access)) is False
    assert views.apply(AccessSeen(access)) is False
    assert views.version == before
    assert views.all_accesses() == [access]


@pytest.mark.parametrize("username", ["ines", "priya"])
def test_the_subject_access_record_is_generated_audited_and_about_one_child(
    client: TestClient,
    as_user: Callable[[str], str],
    world: World,
    publisher: FakePublisher,
    username: str,
) -> None:
    as_user(username)
    told = world.disclosures[0]
    page = client.get(f"/audit?child={told.child_id}").text
    assert rows(page) == ["told"]
    pdf_link = f"/children/{told.child_id}/subject-access.pdf"
    assert f'href="{pdf_link}"' in page
    answer = client.get(pdf_link)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    record = client.get(f"/children/{told.child_id}/subject-access.json").json()
    assert [d["disclosure_id"] for d in record["disclosures"]] == [told.disclosure_id]
    assert record["about"]["child_id"] == told.child_id
    made = [a for a in publisher.on(ACCESS) if a.what == "subject_access"]
    assert [(a.user, a.child_id) for a in made] == [(username, told.child_id)] * 2


def test_a_practitioner_may_not_generate_a_subject_access_record(
    client: TestClient, as_user: Callable[[str], str], world: World, publisher: FakePublisher
) -> None:
    as_user("sam")
    child_id = world.disclosures[0].child_id
    assert client.get(f"/children/{child_id}/subject-access.pdf").status_code == 403
    assert "subject-access" not in client.get(f"/children/{child_id}").text
    assert not [a for a in publisher.on(ACCESS) if a.what == "subject_access"]


def test_the_manager_finds_the_button_on_the_child_s_page(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("priya")
    child_id = world.disclosures[0].child_id
    page = client.get(f"/children/{child_id}").text
    assert f'href="/children/{child_id}/subject-access.pdf"' in page
    assert client.get("/children/nobody/subject-access.pdf").status_code == 404
    assert client.get(f"/children/{child_id}/subject-access.doc").status_code == 404
