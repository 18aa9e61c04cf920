"""How each kind of event of the synthetic council is written, and what it leads to.

bench/council.py decides *when* something happens and *to whom*; `EventMaker` writes
the event in the contract's JSON form (../shared/spec/events.md), updates what the
agencies' systems hold about the child, and schedules the follow-ups a real MASH would
see: a decision after an AMBER notice, a screening after exploitation, a strategy
meeting after a strategy decision, a CP file transfer after a school move. Follow-up
delays are mostly inside the broker's deadlines and sometimes past them, so deadline
alerts fire at a realistic rate rather than always or never.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, time, timedelta
from typing import Any

from bench import council_text as text
from bench.council_mix import (
    ALL_CONCERNS,
    CONSENT,
    EXPLOITATION,
    HEALTH_KINDS,
    ID_RATES,
    LONDON,
    NOISY,
    SIGNIFICANT,
    START,
    THEME_CONCERNS,
    iso,
    office,
    pick,
)
from bench.council_services import ServiceEvents
from bench.council_state import Kid, Pending, World
from bench.synthetic import Generator


class EventMaker(ServiceEvents):
    """Writes events and schedules their follow-ups; all draws from the council's rng."""

    def __init__(self, rng: random.Random, people: Generator, seed: int) -> None:
        self.rng = rng
        self.people = people
        self.seed = seed
        self.serial = 0
        self.schools = text.schools(rng, 70, 18)
        self.known: list[int] = []
        """Kids with a social care status (for the case system's updates)."""
        self.risky: list[int] = []
        """Kids with a recent risk event (for the MASH's information requests)."""

    @staticmethod
    def ages(kind: str) -> tuple[float, float]:
        """Ages of the children an arrival of this kind can be about."""
        return {"yot.referral": (10.0, 18.0), "school.transition": (4.0, 16.0)}.get(
            kind, (0.0, 18.0)
        )

    # -- the envelope -----------------------------------------------------------------

    def envelope(
        self, kid: Kid, etype: str, agency: str, when: datetime, occurred: datetime | None = None
    ) -> dict[str, Any]:
        self.serial += 1
        event: dict[str, Any] = {
            "event_id": f"{agency[:3]}-{self.seed}-{self.serial:07d}",
            "event_type": etype,
            "source": {"agency": agency, "system": f"{agency}-records"},
            "occurred_at": iso(occurred or when),
            "recorded_at": iso(when),
            "subject": self.subject(kid, agency),
        }
        if agency in CONSENT:
            event["consent"] = {"status": pick(self.rng, CONSENT[agency])}
        return event

    def subject(self, kid: Kid, agency: str) -> dict[str, Any]:
        """The child as this agency's system holds them: its identifiers, its errors."""
        rng = self.rng
        truth = kid.child.truth
        noisy = rng.random() < NOISY.get(agency, 0.6)
        record = self.people.agency_record(kid.child).record if noisy else truth
        subject: dict[str, Any] = {
            "given_name": record.given_name,
            "family_name": record.family_name,
            "date_of_birth": record.date_of_birth.isoformat(),
        }
        if agency == "police" and "police_person_id" not in kid.ids and rng.random() < 0.7:
            kid.ids["police_person_id"] = f"PB{kid.index:08d}"  # police meet the child
        for kind, rate in ID_RATES.get(agency, {}).items():
            if kind in kid.ids and rng.random() < rate:
                subject[kind] = kid.ids[kind]
        if record.postcode:
            subject["postcode"] = record.postcode
        if record.sex:
            subject["sex"] = record.sex
        return subject

    # -- dispatch ---------------------------------------------------------------------

    def make(self, council: World, due: Pending) -> dict[str, Any] | None:
        """The event `due` stands for (None when it no longer applies)."""
        handler = getattr(self, "_" + due.kind.replace(".", "_"))
        event: dict[str, Any] | None = handler(council, council.kids[due.kid], due.when, due.data)
        return event

    def snapshot(self, council: World) -> None:
        """Go-live: the case system publishes its open cases; pupils are at school."""
        rng = self.rng
        first = datetime.combine(START, time(9, 30), LONDON)
        for kid in council.kids:
            age = kid.age(first.date())
            if 4 <= age < 11:
                kid.school = rng.choice([s for s in self.schools if s[2] == 1])
            elif 11 <= age < 16:
                kid.school = rng.choice([s for s in self.schools if s[2] == 2])
            if kid.school and rng.random() < (0.25 if kid.theme == "domestic_abuse" else 0.05):
                at = office(first, rng.uniform(0, 80))  # the school's DSL already works with them
                council.push(at, "agency.involvement", kid, agency="school")
            if age < 0 or age >= 18 or rng.random() >= 0.09:
                continue
            status = pick(
                rng,
                {
                    "early_help": 35,
                    "child_in_need": 40,
                    "child_protection_plan": 15,
                    "child_looked_after": 10,
                },
            )
            kid.referrals.append(first.date() - timedelta(days=rng.randrange(30, 900)))
            council.push(office(first, rng.uniform(0, 40)), "socialcare.set", kid, status=status)

    def spoil(self, event: dict[str, Any]) -> bytes:
        """A deliberately bad line: cut short, a bad NHS check digit, or a field missing."""
        roll = self.rng.random()
        raw = json.dumps(event, separators=(",", ":"))
        if roll < 0.3:
            return raw[: len(raw) // 2].encode()
        spoilt = json.loads(raw)
        if roll < 0.65:
            nhs = spoilt["subject"].get("nhs_number") or "9434765919"
            spoilt["subject"]["nhs_number"] = nhs[:9] + str((int(nhs[9]) + 1) % 10)
        else:
            del spoilt["occurred_at"]
        return json.dumps(spoilt, separators=(",", ":")).encode()

    # -- risk events --------------------------------------------------------------------

    def concerns(self, kid: Kid, keep: list[str] | None = None) -> list[str]:
        rng = self.rng
        pool = THEME_CONCERNS[kid.theme] if rng.random() < 0.8 else ALL_CONCERNS
        found = list(keep or [rng.choice(pool)])
        if rng.random() < 0.25:
            extra = rng.choice(ALL_CONCERNS)
            if extra not in found:
                found.append(extra)
        return found

    def _police_vist(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        concerns = data.get("concerns") or self.concerns(kid)
        sig = bool(SIGNIFICANT & set(concerns))
        rag = data.get("rag") or pick(
            rng,
            {"RED": 35, "AMBER": 50, "GREEN": 15} if sig else {"GREEN": 64, "AMBER": 31, "RED": 5},
        )
        occurred = data.get("occurred") or when - timedelta(minutes=rng.randrange(20, 36 * 60))
        local = occurred.astimezone(when.tzinfo)
        event = self.envelope(kid, "police.vist", "police", when, occurred)
        event.update(
            vist_id=f"V-{self.seed}-{self.serial:07d}",
            rag=rag,
            concerns=concerns,
            narrative=text.narrative(rng, concerns),
            out_of_hours=local.weekday() >= 5 or not (9 <= local.hour < 17),
        )
        if rng.random() < 0.7:
            event["officer"] = {"collar_number": str(rng.randrange(1000, 9999))}
        if "domestic_abuse" in concerns and not data.get("sibling"):
            for other in council.households[kid.child.household]:
                sib = council.kids[other]
                if sib is not kid and 0 <= sib.age(when.date()) < 18:
                    later = when + timedelta(minutes=rng.randrange(1, 15))
                    council.push(
                        later,
                        "police.vist",
                        sib,
                        concerns=concerns,
                        rag=rag,
                        occurred=occurred,
                        sibling=True,
                    )
        depth = None if data.get("sibling") else data.get("depth", 0)
        self.after_risk(council, kid, event, when, concerns, rag, depth=depth)
        return event

    def _health_update(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        kind = pick(rng, HEALTH_KINDS)
        concerns: list[str] = []
        if data.get("concerns") or kind == "mh_crisis" or rng.random() < 0.55:
            keep = data.get("concerns") or (["self_harm"] if kind == "mh_crisis" else None)
            concerns = self.concerns(kid, keep)
        agency = "camhs" if kind.startswith("camhs") else "health"
        occurred = when - timedelta(minutes=rng.randrange(5, 8 * 60))
        event = self.envelope(kid, "health.update", agency, when, occurred)
        event.update(
            update_id=f"H-{self.seed}-{self.serial:07d}",
            kind=kind,
            setting=rng.choice(text.HEALTH_SETTINGS),
            concerns=concerns,
            narrative=text.narrative(rng, concerns, 0.01),
        )
        if concerns or kind == "mh_crisis":
            self.after_risk(council, kid, event, when, concerns, None, depth=data.get("depth", 0))
        return event

    def _yot_referral(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        concerns = self.concerns(kid, ["offending"])
        event = self.envelope(kid, "yot.referral", "yot", when, when - timedelta(days=1))
        event.update(
            referral_id=f"Y-{self.seed}-{self.serial:07d}",
            template_version="3" if rng.random() < 0.85 else "2",
            concerns=concerns,
            risk_level=pick(rng, {"low": 20, "medium": 45, "high": 25, "very_high": 10}),
            case_manager={"name": rng.choice(text.WORKERS), "team": "Youth Justice"},
        )
        if rng.random() < 0.95:
            summary = text.narrative(rng, concerns, 0.05).split()
            event["concern_summary"] = " ".join(summary[: rng.choice([8, 12, 20, 30])])
        if rng.random() < 0.9:
            event["impact_on_child"] = text.words(rng, rng.choice([10, 16, 20, 28, 36]))
        if {"mental_health", "self_harm"} & set(concerns) and rng.random() < 0.7:
            event["mental_health_impact"] = text.words(rng, rng.randrange(12, 30))
        self.after_risk(council, kid, event, when, concerns, None, event["risk_level"])
        return event

    def after_risk(
        self,
        council: World,
        kid: Kid,
        event: dict[str, Any],
        when: datetime,
        concerns: list[str],
        rag: str | None,
        risk_level: str | None = None,
        depth: int | None = 0,
    ) -> None:
        """Decision, screening and repeat incidents that a risk event leads to.

        `depth` counts repeats of a first incident (None: a sibling's copy of one, which
        repeats with the child it was about); each repeat is likelier than chance but
        less likely than the one before, so a child's incidents cluster without a few
        children running away with the year."""
        rng = self.rng
        self.risky.append(kid.index)
        if len(self.risky) > 4000:
            del self.risky[:2000]
        urgent = rag == "RED" or risk_level == "very_high" or bool(SIGNIFICANT & set(concerns))
        involved = bool(kid.involved) or kid.status is not None
        if rng.random() < (
            0.92 if urgent else 0.8 if rag == "AMBER" else 0.5 if involved else 0.05
        ):
            hours = 4.0 if urgent else 8.0
            late = rng.random() < 0.12
            delay = rng.uniform(hours * 1.1, hours * 3) if late else rng.uniform(0.1, hours * 0.9)
            council.push(
                office(when, delay),
                "mash.decision",
                kid,
                refers_to=event["event_id"],
                urgent=urgent,
                source=event["source"]["agency"],
            )
        if EXPLOITATION & set(concerns) and rng.random() < 0.6:
            delay = rng.uniform(2, 38) if rng.random() < 0.85 else rng.uniform(42, 80)
            council.push(office(when, delay), "mash.screening", kid, refers_to=event["event_id"])
        again = 0.45 if kid.theme in ("missing", "exploitation") else 0.25
        if concerns and depth is not None and rng.random() < again / (1 + depth):
            later = when + timedelta(days=rng.expovariate(1 / 25), minutes=rng.randrange(1, 600))
            kind = "police.vist" if rng.random() < 0.7 else "health.update"
            council.push(later, kind, kid, concerns=[concerns[0]], depth=depth + 1)
