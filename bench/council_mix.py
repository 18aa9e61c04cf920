"""The mix of the synthetic council (bench/council.py): every rate and weight in one place.

These are the knobs of realism, kept apart from the simulation so they can be read and
tuned together: what arrives when, what each agency's record of a child holds, how the
MASH decides, how social care statuses move. They are judgement, not data: shaped after
the published picture of an English MASH (most contacts are police notices, most of
them green or amber; health the second source; schools, youth justice and the case
system smaller but steady) and tuned so that the broker's rules fire at plausible rates.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

LONDON: Final = ZoneInfo("Europe/London")
START: Final = date(2025, 6, 2)
"""A Monday, the day after bench.synthetic's REFERENCE_DATE, so every child is born."""
_NINE: Final = time(9)
_FIVE: Final = time(17)

# kind -> (weekday weight, weekend weight) of base arrivals.
BASE_KINDS: Final = {
    "police.vist": (34, 60),
    "health.update": (19, 34),
    "yot.referral": (4, 0),
    "school.transition": (4, 0),
    "agency.involvement": (11, 1),
    "socialcare.record": (8, 1),
    "mash.info_request": (5, 0),
}
NIGHT_KINDS: Final = frozenset({"police.vist", "health.update"})
HOURS_24: Final = [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 5, 6, 6, 7, 7, 6, 5, 3, 2]
THEMES: Final = {
    "domestic_abuse": 30,
    "neglect": 20,
    "mental_health": 15,
    "exploitation": 7,
    "offending": 10,
    "missing": 6,
    "general": 12,
}


_ALL_CONCERNS: Final = (
    "domestic_abuse missing child_sexual_exploitation child_criminal_exploitation "
    "mental_health self_harm substance_misuse neglect physical_abuse sexual_abuse "
    "emotional_abuse online_harm knife_crime offending homelessness other"
)
ALL_CONCERNS: Final = _ALL_CONCERNS.split()
THEME_CONCERNS: Final = {
    "domestic_abuse": ["domestic_abuse", "domestic_abuse", "emotional_abuse", "physical_abuse"],
    "neglect": ["neglect", "neglect", "homelessness", "emotional_abuse"],
    "mental_health": ["mental_health", "self_harm", "self_harm", "online_harm"],
    "exploitation": [
        "child_sexual_exploitation",
        "child_criminal_exploitation",
        "missing",
        "substance_misuse",
    ],
    "offending": ["offending", "knife_crime", "child_criminal_exploitation", "substance_misuse"],
    "missing": ["missing", "missing", "child_sexual_exploitation", "self_harm"],
    "general": ALL_CONCERNS,
}
SIGNIFICANT: Final = frozenset(
    {"sexual_abuse", "physical_abuse", "child_sexual_exploitation", "child_criminal_exploitation"}
)
EXPLOITATION: Final = frozenset({"child_sexual_exploitation", "child_criminal_exploitation"})
KNOWN: Final = frozenset({"child_in_need", "child_protection_plan", "child_looked_after"})
NEXT_STATUS: Final = {
    None: {"early_help": 50, "child_in_need": 50},
    "closed": {"early_help": 50, "child_in_need": 50},
    "early_help": {"closed": 40, "child_in_need": 25, "early_help": 35},
    "child_in_need": {
        "child_in_need": 45,
        "child_protection_plan": 15,
        "closed": 35,
        "child_looked_after": 5,
    },
    "child_protection_plan": {
        "child_protection_plan": 50,
        "child_in_need": 35,
        "child_looked_after": 15,
    },
    "child_looked_after": {"child_looked_after": 85, "closed": 15},
}
DECISIONS: Final = {
    "no_further_action": 28,
    "early_help": 15,
    "share": 20,
    "child_in_need_assessment": 15,
    "strategy_discussion": 8,
    "section_47": 4,
    "no_share": 10,
}
HEALTH_KINDS: Final = {
    "ed_attendance": 30,
    "mh_crisis": 8,
    "camhs_referral": 10,
    "camhs_discharge": 4,
    "admission": 6,
    "discharge": 5,
    "liaison_diversion": 4,
    "street_triage": 3,
    "school_nurse_assessment": 15,
    "gp_concern": 15,
}
INVOLVEMENTS: Final = {
    "camhs": 20,
    "substance_misuse": 8,
    "early_help": 15,
    "health": 10,
    "yot": 10,
    "other": 10,
    "school": 20,
}
CONSENT: Final = {
    "police": {"not_sought": 70, "given": 12, "refused": 6, "dispensed": 12},
    "health": {"not_sought": 60, "given": 35, "refused": 5},
    "camhs": {"not_sought": 60, "given": 35, "refused": 5},
    "yot": {"given": 60, "not_sought": 35, "refused": 5},
}
# Which identifiers each agency's system holds, and how often it sends each.
ID_RATES: Final = {
    "police": {"police_person_id": 0.75, "nhs_number": 0.05},
    "health": {"nhs_number": 0.95},
    "camhs": {"nhs_number": 0.95},
    "school": {"upn": 0.95},
    "yot": {"police_person_id": 0.6, "nhs_number": 0.3, "upn": 0.3},
    "socialcare": {"socialcare_id": 1.0, "nhs_number": 0.7, "upn": 0.3},
    "mash": {"socialcare_id": 1.0, "nhs_number": 0.6, "upn": 0.2, "police_person_id": 0.3},
    "early_help": {"nhs_number": 0.4, "upn": 0.4},
    "substance_misuse": {"nhs_number": 0.6},
}
# How often an agency's record of the child carries bench.synthetic's keying errors.
NOISY: Final = {"police": 0.9, "school": 0.3, "socialcare": 0.2, "mash": 0.1}


def pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def office(after: datetime, hours: float) -> datetime:
    """`after` plus `hours` of 09:00-17:00 weekday time (bank holidays not skipped: the
    generator approximates; the broker's own calendar decides what is late)."""
    tz = after.tzinfo
    local = after
    left = timedelta(hours=max(hours, 0.05))
    while True:
        day = local.date()
        start, end = datetime.combine(day, _NINE, tz), datetime.combine(day, _FIVE, tz)
        if day.weekday() >= 5 or local >= end:
            local = datetime.combine(day + timedelta(days=1), _NINE, tz)
            continue
        local = max(local, start)
        if left <= end - local:
            return local + left
        left -= end - local
        local = datetime.combine(day + timedelta(days=1), _NINE, tz)
