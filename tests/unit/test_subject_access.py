"""A child's subject access record: generated as a PDF, its text read back (pypdf), every
disclosure and access about the child present, third parties' data marked for review,
and nothing about any other child."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from broker.cli.main import main
from broker.models import AuditDisclosure
from broker.oversight.subject_access import FREE_TEXT_REVIEW, PROFESSIONAL_REVIEW, subject_access
from broker.oversight.subject_access_pdf import subject_access_pdf
from tests.unit.web.world import World, access_record, demo_world

FILE = Path(__file__).parents[1] / "data" / "timeliness_may_2026.jsonl"
GENERATED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with all white space removed: table cells wrap anywhere."""
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def squashed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def world() -> World:
    return demo_world()


def assert_disclosed(text: str, disclosure: AuditDisclosure) -> None:
    for needle in (
        disclosure.disclosed_at.isoformat(),
        disclosure.to_agency.value,
        disclosure.lawful_basis,
        disclosure.consent.value,
        disclosure.decided_by,
        *disclosure.fields,
    ):
        assert squashed(needle) in text, needle


def assert_nothing_about_others(text: str, world: World, child_id: str) -> None:
    for other_id, picture in world.pictures.items():
        if other_id == child_id:
            continue
        assert picture.identity is not None
        assert other_id not in text
        assert squashed(f"{picture.identity.given_name}{picture.identity.family_name}") not in text
        for value in picture.identity.identifiers.values():
            assert value not in text
        for event in picture.events:
            assert event.event_id not in text


def test_a_demo_child_s_record_holds_every_disclosure_and_access_and_no_other_child(
    world: World,
) -> None:
    lily = next(
        c for c, p in world.pictures.items() if p.identity and p.identity.given_name == "Lily"
    )
    other = next(c for c in world.pictures if c != lily)
    accesses = [access_record("a1", lily), access_record("a2", other)]
    record = subject_access(
        lily,
        world.pictures[lily],
        world.alerts,
        world.disclosures,
        accesses,
        generated_at=GENERATED,
        requested_by="Priya Shah (manager)",
    )
    told = [d for d in world.disclosures if d.child_id == lily]
    assert told  # the demo tells social care about Lily
    assert [d["disclosure_id"] for d in record["disclosures"]] == [d.disclosure_id for d in told]
    assert len(record["accesses"]) == 1
    assert {a["rule_id"] for a in record["alerts"]} == {
        a.rule_id.value for a in world.alerts if a.child.child_id == lily
    }
    assert record["alerts"]

    pdf = subject_access_pdf(record)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Subjectaccessrecord" in text
    assert "Lily" in text
    assert "Carter" in text
    for disclosure in told:
        assert_disclosed(text, disclosure)
    assert squashed("Sam Reed (sam)") in text  # who looked, marked for review
    assert squashed(f"[FOR REVIEW: {PROFESSIONAL_REVIEW}]") in text
    assert_nothing_about_others(text, world, lily)


def test_third_parties_data_is_marked_not_dropped(world: World) -> None:
    maya = next(
        c for c, p in world.pictures.items() if p.identity and p.identity.given_name == "Maya"
    )
    record = subject_access(
        maya, world.pictures[maya], world.alerts, world.disclosures, [],
        generated_at=GENERATED, requested_by="an auditor",
    )  # fmt: skip
    narratives = [
        f["narrative"]
        for r in record["records"]
        for n, f in [("x", r["fields"])]
        if "narrative" in f
    ]
    assert narratives
    for narrative in narratives:
        assert narrative["review"] == FREE_TEXT_REVIEW
        assert narrative["value"]  # kept whole for the reviewer
    text = pdf_text(subject_access_pdf(record))
    assert squashed(f"[FOR REVIEW: {FREE_TEXT_REVIEW}]") in text
    assert squashed(str(narratives[0]["value"]))[:40] in text
    assert record["for_review"] >= len(narratives)


def test_hostile_text_is_data_in_the_pdf(world: World) -> None:
    maya = next(
        c for c, p in world.pictures.items() if p.identity and p.identity.given_name == "Maya"
    )
    record = subject_access(
        maya, world.pictures[maya], [], [], [], generated_at=GENERATED,
        requested_by="<b>x</b> & <font size=99>",
    )  # fmt: skip
    text = pdf_text(subject_access_pdf(record))
    assert squashed("<b>x</b> & <font size=99>") in text


def test_the_command_writes_the_json_and_the_pdf_for_a_child_of_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, out = tmp_path / "ava.pdf", tmp_path / "ava.json"
    args = ["subject-access", "SC-7001", str(FILE), "--until", "2026-06-30T00:00:00+01:00"]
    assert main([*args, "--pdf", str(pdf), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["identity"]["given_name"] == "Ava"
    told = record["disclosures"]
    # social care told of the RED notice, the move, the file's transfer and the GREEN
    # notice; the school told of the domestic abuse (Operation Encompass)
    assert sorted((d["to_agency"], d["event_id"]) for d in told) == [
        ("school", "pol-ava-da"),
        ("socialcare", "pol-ava-da"),
        ("socialcare", "pol-ava-red"),
        ("socialcare", "sch-ava-file"),
        ("socialcare", "sch-ava-move"),
    ]
    text = pdf_text(pdf.read_bytes())
    for d in told:
        for needle in (d["disclosed_at"], d["to_agency"], d["lawful_basis"], *d["fields"]):
            assert squashed(needle) in text, needle
    for other in (
        "Ben",
        "Carter",
        "Cara",
        "Doyle",
        "Dan",
        "Ellis",
        "pol-ben",
        "yot-cara",
        "pol-dan",
    ):
        assert other not in text, other
    assert main(["subject-access", "nobody", str(FILE)]) == 1
    assert "no child matches" in capsys.readouterr().err
