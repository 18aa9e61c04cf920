"""What the MASH, social care, schools and agencies publish about a child's care.

The other half of bench/council_events.py (which writes the risk events): MASH
decisions, screenings and information requests, strategy meetings, the case system's
records, school moves and agencies opening or closing their work. Each follow-up is
scheduled as a real front door would see it: mostly in time, sometimes late, sometimes
never, so that the broker's deadline rules fire at a plausible rate.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from bench import council_text as text
from bench.council_mix import DECISIONS, INVOLVEMENTS, KNOWN, NEXT_STATUS, iso, office, pick
from bench.council_state import Kid, World


class ServiceEvents:
    """Event writers for the services; mixed into `EventMaker`, which owns the state."""

    rng: random.Random
    seed: int
    serial: int
    schools: list[tuple[str, str, int]]
    known: list[int]
    risky: list[int]

    def envelope(
        self, kid: Kid, etype: str, agency: str, when: datetime, occurred: datetime | None = None
    ) -> dict[str, Any]:
        raise NotImplementedError

    # -- the MASH and social care -----------------------------------------------------

    def _mash_decision(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        weights = dict(DECISIONS)
        if data.get("urgent"):
            weights.update(strategy_discussion=15, section_47=8, no_further_action=15)
        decision = pick(rng, weights)
        event = self.envelope(kid, "mash.decision", "mash", when)
        event.update(
            decision_id=f"D-{self.seed}-{self.serial:07d}",
            refers_to=data["refers_to"],
            decision=decision,
            rationale="Discussed with partner agencies; " + text.words(rng, rng.randrange(5, 15)),
            decided_by=rng.choice(text.WORKERS),
        )
        if decision == "share":
            pool = ["health", "police", "early_help", "camhs", "yot"] + (
                ["school"] * 2 if kid.school else []
            )
            pool = [a for a in pool if a != data.get("source")]
            event["share_with"] = sorted(set(rng.sample(pool, k=rng.choice([1, 1, 2]))))
        if decision in ("strategy_discussion", "section_47") and rng.random() < 0.85:
            delay = rng.uniform(0.5, 7.5) if rng.random() < 0.85 else rng.uniform(9, 20)
            council.push(
                office(when, delay), "socialcare.strategy_meeting", kid, refers_to=event["event_id"]
            )
        follow = {
            "child_in_need_assessment": ("child_in_need", 0.6, 10, 45),
            "early_help": ("early_help", 0.5, 3, 20),
            "section_47": ("child_protection_plan", 0.45, 15, 40),
        }.get(decision)
        if follow and rng.random() < follow[1]:
            later = office(when + timedelta(days=rng.randrange(follow[2], follow[3])), 1)
            council.push(later, "socialcare.set", kid, status=follow[0])
        return event

    def _mash_screening(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        event = self.envelope(kid, "mash.screening", "mash", when)
        event.update(
            screening_id=f"S-{self.seed}-{self.serial:07d}",
            tool="exploitation",
            outcome=pick(self.rng, {"low": 40, "medium": 40, "high": 20}),
        )
        if self.rng.random() < 0.7:
            event["refers_to"] = data["refers_to"]
        return event

    def _socialcare_strategy_meeting(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        attendees = ["socialcare", "police", "health"]
        if rng.random() < 0.2:
            attendees.remove(rng.choice(attendees[1:]))
        if kid.school and rng.random() < 0.65:
            attendees.append("school")
        attendees += [a for a in sorted(kid.involved) if a not in attendees and rng.random() < 0.5]
        event = self.envelope(kid, "socialcare.strategy_meeting", "socialcare", when)
        held = max(when - timedelta(minutes=rng.randrange(30, 180)), when - timedelta(hours=1))
        event.update(
            meeting_id=f"M-{self.seed}-{self.serial:07d}",
            held_at=iso(held),
            attendees=attendees,
            refers_to=data["refers_to"],
        )
        return event

    def _mash_info_request(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        if self.risky and rng.random() < 0.85:
            kid = council.kids[rng.choice(self.risky)]
        asked = {"socialcare", "police", "health"} | kid.involved
        if kid.school:
            asked.add("school")
        if kid.theme in ("exploitation", "offending"):
            asked |= {"yot", "substance_misuse"}
        if kid.theme == "mental_health":
            asked.add("camhs")
        agencies = sorted(asked)
        if len(agencies) > 1 and rng.random() < 0.3:
            agencies.remove(rng.choice(agencies))  # the omission inspectors found
        event = self.envelope(kid, "mash.info_request", "mash", when)
        event.update(
            request_id=f"R-{self.seed}-{self.serial:07d}",
            agencies_contacted=agencies,
            reason="Gathering information after "
            + rng.choice(["a police notice", "a referral", "a health update"]),
        )
        return event

    def _socialcare_record(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The case system's change data capture: a known child's record changes, or a
        new referral opens one."""
        if self.known and self.rng.random() < 0.7:
            kid = council.kids[self.rng.choice(self.known)]
        return self._socialcare_set(council, kid, when, {})

    def _socialcare_set(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        status = data.get("status") or pick(rng, NEXT_STATUS[kid.status])
        if kid.status is None:
            self.known.append(kid.index)
        if kid.status in (None, "closed") and status != "closed":
            kid.referrals.append(when.date())
        if status != kid.status or kid.since is None:
            kid.since = when.date()
        kid.status = status
        kid.involved.discard("early_help")
        if status == "early_help":
            kid.involved.add("early_help")
        kid.ids.setdefault("socialcare_id", f"SCB{kid.index:07d}")
        event = self.envelope(kid, "socialcare.record", "socialcare", when)
        event.update(status=status, status_since=kid.since.isoformat())
        event["previous_referrals"] = [d.isoformat() for d in kid.referrals[:-1]]
        if status in KNOWN or rng.random() < 0.3:
            team = rng.choice(text.TEAMS["socialcare"])
            event["allocated_worker"] = {"name": rng.choice(text.WORKERS), "team": team}
        return event

    # -- schools and involvements -------------------------------------------------------

    def _school_transition(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        if "transition" in data:  # the CP file arrives: the same move, updated
            event = self.envelope(kid, "school.transition", "school", when)
            event.update(data["transition"], cp_file_transferred_at=iso(when))
            if rng.random() < 0.6:
                event["receipt_confirmed_at"] = iso(when + timedelta(minutes=rng.randrange(5, 90)))
            return event
        phase = 2 if kid.age(when.date()) >= 10.5 else 1
        was = kid.school or rng.choice([s for s in self.schools if s[2] == phase])
        now = rng.choice([s for s in self.schools if s[2] == phase and s != was])
        leave = when.date() - timedelta(days=rng.randrange(0, 6))
        body: dict[str, Any] = {
            "transition_id": f"tr-{self.seed}-{self.serial + 1:07d}",
            "from_school": {"urn": was[0], "name": was[1]},
            "to_school": {"urn": now[0], "name": now[1]},
            "leave_date": leave.isoformat(),
            "cp_file_exists": rng.random() < (0.7 if kid.status in KNOWN else 0.04),
        }
        start: date | None = None
        if rng.random() < 0.8:
            start = leave + timedelta(days=rng.randrange(1, 10))
            body["start_date"] = start.isoformat()
        kid.school = now
        event = self.envelope(kid, "school.transition", "school", when)
        event.update(body)
        if (body["cp_file_exists"] or kid.status in KNOWN) and rng.random() < 0.88:
            if rng.random() < 0.25:
                event["cp_file_transferred_at"] = iso(when - timedelta(minutes=30))
            else:
                base = datetime.combine(start or leave, time(9), when.tzinfo)
                days = rng.randrange(0, 5) if rng.random() < 0.85 else rng.randrange(7, 12)
                later = max(office(base, days * 8 + rng.uniform(0, 7)), office(when, 0.5))
                council.push(later, "school.transition", kid, transition=body)
        return event

    def _agency_involvement(
        self, council: World, kid: Kid, when: datetime, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        rng = self.rng
        agency = data.get("agency") or pick(rng, INVOLVEMENTS)
        age = kid.age(when.date())
        if (agency == "school" and not kid.school) or (agency == "yot" and age < 10):
            agency = "camhs" if kid.theme == "mental_health" else "early_help"
        status = "closed" if agency in kid.involved else "open"
        if data.get("close") and status != "closed":
            return None  # closed already by another event
        event = self.envelope(kid, "agency.involvement", agency, when)
        event.update(agency=agency, status=status, team=rng.choice(text.TEAMS[agency]))
        if rng.random() < 0.5:
            event["contact"] = rng.choice(text.WORKERS)
        if agency == "school" and kid.school:
            event["school"] = {"urn": kid.school[0], "name": kid.school[1]}
        if status == "open":
            kid.involved.add(agency)
            if rng.random() < 0.5:
                later = office(when + timedelta(days=rng.randrange(60, 300)), 1)
                council.push(later, "agency.involvement", kid, agency=agency, close=True)
        else:
            kid.involved.discard(agency)
        return event
