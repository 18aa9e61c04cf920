"""`mash-broker demo`: demo events dated from now, for a realistic MASH queue at once.

The live worker runs on the wall clock, so a demo must be recent: events recorded a few
days ago make deadlines already missed (overdue, in red), events of the last hours make
deadlines still running. Eight children, each a pattern inspectors found: a GREEN
notice nobody shared, cumulative neglect, domestic abuse with no known school, a
criminal exploitation referral on the old template, a child protection file that did
not follow a child to her new school, consent refused, repeat missing episodes with
self-harm, and two records the broker cannot tell apart.

Times are counted back from the hour, and event ids carry that hour: run twice within
an hour, the second run is the same events (processed once); an hour later, new ones.
Names and identifiers are made up (valid check digits, no real person).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from broker.models.identifiers import nhs_check_digit, upn_check_letter

LONDON = ZoneInfo("Europe/London")


def nhs_number(first_nine: str) -> str:
    """A valid NHS number from nine digits (the next that has a check digit)."""
    number = int(first_nine)
    while (check := nhs_check_digit(f"{number:09d}")) is None:
        number += 1
    return f"{number:09d}{check}"


def upn(body: str) -> str:
    return upn_check_letter(body) + body


class _Demo:
    def __init__(self, now: datetime) -> None:
        self.anchor = now.astimezone(LONDON).replace(minute=0, second=0, microsecond=0)
        self.run = self.anchor.strftime("%Y%m%d%H")
        self.events: list[dict[str, Any]] = []

    def at(self, days: float = 0, hours: float = 0) -> str:
        return (self.anchor - timedelta(days=days, hours=hours)).isoformat()

    def event(
        self,
        name: str,
        event_type: str,
        sender: str,
        subject: dict[str, Any],
        *,
        days: float = 0,
        hours: float = 0,
        **body: Any,
    ) -> None:
        when = self.at(days, hours)
        system = {
            "socialcare": "liquidlogic",
            "school": "cpoms",
            "police": "niche",
            "yot": "childview",
            "health": "systmone",
            "mash": "mash-records",
        }
        self.events.append(
            {
                "event_id": f"demo-{self.run}-{name}",
                "event_type": event_type,
                "source": {"agency": sender, "system": system.get(sender, f"{sender}-records")},
                "occurred_at": when,
                "recorded_at": when,
                "subject": subject,
                **body,
            }
        )

    def day(self, days: float) -> str:
        return (self.anchor - timedelta(days=days)).date().isoformat()


def demo_events(now: datetime) -> list[dict[str, Any]]:
    """The demo's events, oldest first, counted back from `now`."""
    d = _Demo(now)
    vist = {"out_of_hours": False}
    poppy = {
        "given_name": "Lily",
        "family_name": "Carter",
        "date_of_birth": "2013-04-18",
        "postcode": "PL2 3QA",
        "socialcare_id": "SC-9101",
        "nhs_number": nhs_number("943476101"),
        "upn": upn("801200001234"),
    }
    rhys = {
        "given_name": "Noah",
        "family_name": "Walsh",
        "date_of_birth": "2016-09-02",
        "postcode": "PL5 1AB",
        "nhs_number": nhs_number("943476202"),
    }
    ollie = {
        "given_name": "Leo",
        "family_name": "Bennett",
        "date_of_birth": "2017-01-25",
        "postcode": "PL4 6QT",
        "police_person_id": "P-77120",
    }
    dylan = {
        "given_name": "Kai",
        "family_name": "Harris",
        "date_of_birth": "2009-11-30",
        "postcode": "PL6 5XY",
        "nhs_number": nhs_number("943476303"),
    }
    evie = {
        "given_name": "Ruby",
        "family_name": "Clarke",
        "date_of_birth": "2012-02-14",
        "postcode": "PL3 4RS",
        "socialcare_id": "SC-9102",
        "upn": upn("801200005678"),
    }
    tia = {
        "given_name": "Amelia",
        "family_name": "Roberts",
        "date_of_birth": "2014-07-09",
        "postcode": "PL1 2CD",
        "socialcare_id": "SC-9103",
        "nhs_number": nhs_number("943476404"),
    }
    maya = {
        "given_name": "Maya",
        "family_name": "Thompson",
        "date_of_birth": "2010-05-21",
        "postcode": "PL7 1EF",
        "nhs_number": nhs_number("943476505"),
    }
    isla = {
        "given_name": "Freya",
        "family_name": "Turner",
        "date_of_birth": "2015-03-11",
        "postcode": "PL4 7QQ",
        "nhs_number": nhs_number("943476606"),
    }
    sam = {"name": "Sam Reed", "team": "Plymouth Central CIN"}

    # Earlier history: records, involvements, older events.
    d.event(
        "soc-poppy",
        "socialcare.record",
        "socialcare",
        poppy,
        days=30,
        status="child_in_need",
        status_since=d.day(60),
        allocated_worker=sam,
        previous_referrals=[d.day(400)],
    )
    d.event(
        "soc-evie",
        "socialcare.record",
        "socialcare",
        evie,
        days=40,
        status="child_protection_plan",
        status_since=d.day(45),
        allocated_worker={"name": "Jo Patel", "team": "Plymouth North CP"},
        previous_referrals=[],
    )
    d.event(
        "soc-tia",
        "socialcare.record",
        "socialcare",
        tia,
        days=25,
        status="child_in_need",
        status_since=d.day(25),
        allocated_worker={"name": "Amira Khan", "team": "Plymouth West CIN"},
        previous_referrals=[],
    )
    d.event(
        "inv-dylan-sms",
        "agency.involvement",
        "substance_misuse",
        dylan,
        days=50,
        agency="substance_misuse",
        status="open",
        team="Harbour young people's service",
    )
    d.event(
        "inv-rhys-health",
        "agency.involvement",
        "health",
        rhys,
        days=40,
        agency="health",
        status="open",
        team="School nursing",
    )
    d.event(
        "mis-maya-1",
        "police.vist",
        "police",
        maya,
        days=40,
        vist_id=f"V-{d.run}-1",
        rag="GREEN",
        concerns=["missing"],
        narrative="Reported missing by her mother overnight; found at a friend's address.",
        **vist,
    )
    d.event(
        "inv-tia-camhs",
        "agency.involvement",
        "camhs",
        tia,
        days=30,
        agency="camhs",
        status="open",
        team="CAMHS getting help",
    )
    d.event(
        "hea-maya-1",
        "health.update",
        "health",
        maya,
        days=30,
        update_id=f"U-{d.run}-1",
        kind="mh_crisis",
        setting="Derriford ED",
        concerns=["self_harm"],
        narrative="Attended after cutting; seen by the liaison psychiatry team.",
    )
    d.event(
        "inv-poppy-school",
        "agency.involvement",
        "school",
        poppy,
        days=20,
        agency="school",
        status="open",
        team="DSL",
        school={"urn": "113500", "name": "Stoke Damerel Primary"},
    )
    d.event(
        "mis-maya-2",
        "police.vist",
        "police",
        maya,
        days=20,
        vist_id=f"V-{d.run}-2",
        rag="GREEN",
        concerns=["missing"],
        narrative="Missing for 14 hours; returned by taxi paid for by an older male.",
        **vist,
    )
    d.event(
        "sch-evie",
        "school.transition",
        "school",
        evie,
        days=15,
        transition_id=f"T-{d.run}-evie",
        from_school={"urn": "113400", "name": "Ford Primary"},
        to_school={"urn": "113700", "name": "Stoke Damerel Community College"},
        leave_date=d.day(14),
        start_date=d.day(12),
        cp_file_exists=True,
    )
    d.event(
        "hea-rhys",
        "health.update",
        "health",
        rhys,
        days=9,
        update_id=f"U-{d.run}-2",
        kind="school_nurse_assessment",
        setting="Weston Mill Primary",
        concerns=["neglect"],
        narrative="Unwashed uniform for a third week; often hungry at breakfast club.",
    )
    d.event(
        "inv-maya-school",
        "agency.involvement",
        "school",
        maya,
        days=8,
        agency="school",
        status="open",
        team="DSL",
        school={"urn": "113600", "name": "Plymstock School"},
    )
    d.event(
        "yot-dylan",
        "yot.referral",
        "yot",
        dylan,
        days=8,
        referral_id=f"R-{d.run}-dylan",
        template_version="2",
        concerns=["offending", "child_criminal_exploitation"],
        concern_summary="Found with cash and two phones.",
        impact_on_child="Not attending school.",
        risk_level="high",
        case_manager={"name": "Lee Carter", "team": "Plymouth YOT"},
    )
    d.event(
        "req-dylan",
        "mash.info_request",
        "mash",
        dylan,
        days=7,
        request_id=f"Q-{d.run}-dylan",
        agencies_contacted=["police", "yot"],
        reason="Possible county lines exploitation.",
    )
    d.event(
        "hea-maya-2",
        "health.update",
        "health",
        maya,
        days=6,
        update_id=f"U-{d.run}-3",
        kind="ed_attendance",
        setting="Derriford ED",
        concerns=["self_harm"],
        narrative="Overdose of paracetamol; admitted overnight.",
    )
    d.event(
        "pol-poppy",
        "police.vist",
        "police",
        poppy,
        days=4,
        vist_id=f"V-{d.run}-3",
        rag="GREEN",
        concerns=["emotional_abuse"],
        narrative="Officers attended an argument between adults; Lily was upstairs and upset.",
        **vist,
    )
    d.event(
        "pol-isla",
        "police.vist",
        "police",
        isla,
        days=3,
        vist_id=f"V-{d.run}-4",
        rag="GREEN",
        concerns=["neglect"],
        narrative="Officers attended the address; the home was cold and there was little food.",
        **vist,
    )
    # Today.
    d.event(
        "mis-maya-3",
        "police.vist",
        "police",
        maya,
        hours=5,
        vist_id=f"V-{d.run}-5",
        rag="AMBER",
        concerns=["missing", "child_sexual_exploitation"],
        narrative="Missing for two days; found in a flat in Stonehouse with adult males.",
        **vist,
    )
    d.event(
        "pol-ollie",
        "police.vist",
        "police",
        ollie,
        hours=3,
        vist_id=f"V-{d.run}-6",
        rag="AMBER",
        concerns=["domestic_abuse"],
        narrative="Domestic incident at home; Leo hid in his bedroom.",
        out_of_hours=True,
    )
    d.event(
        "hea-isla",
        "health.update",
        "health",
        {**isla, "date_of_birth": "2012-08-24"},
        hours=2,
        update_id=f"U-{d.run}-4",
        kind="gp_concern",
        setting="Mayflower surgery",
        concerns=["neglect"],
        narrative="Child unkempt and underweight at an appointment.",
    )
    d.event(
        "pol-rhys",
        "police.vist",
        "police",
        rhys,
        hours=2,
        vist_id=f"V-{d.run}-7",
        rag="AMBER",
        concerns=["neglect"],
        narrative="Found alone at home at 22:00; no adult returned for two hours.",
        **vist,
    )
    d.event(
        "pol-tia",
        "police.vist",
        "police",
        tia,
        hours=1,
        consent={"status": "refused", "rationale": "Mother refused consent to share with health."},
        vist_id=f"V-{d.run}-8",
        rag="AMBER",
        concerns=["neglect"],
        narrative="Home conditions poor; Amelia's mother asked that health not be told.",
        **vist,
    )
    return sorted(d.events, key=lambda e: datetime.fromisoformat(e["recorded_at"]))


def print_demo(out: TextIO, now: datetime | None = None) -> int:
    for event in demo_events(now or datetime.now(LONDON)):
        out.write(json.dumps(event, ensure_ascii=False) + "\n")
    return 0
