"""The vocabulary of the synthetic council (bench/council.py): schools, teams, people
and the free text agencies write.

Kept apart from the simulation so that council.py reads as the story of a year at a
front door, and this module as its props. Free text matters to the benchmark: language
review runs on every narrative, and REFERRAL_INCOMPLETE counts words, so narratives
have realistic lengths and a few use phrases from the language list (as inspectors
found real records do).
"""

from __future__ import annotations

import random
from typing import Final

_PLACES: Final = """Stoke Damerel Keyham Barton Plympton Plymstock Tamerton Efford Ernesettle
Whitleigh Honicknowle Southway Estover Mannamead Lipson Laira Mount Gould Stonehouse
Devonport Ford Camels Head Weston Mill Crownhill Eggbuckland Derriford Widewell Roborough
Hooe Oreston Elburton Turnchapel Yealmpton Saltash Torpoint Ivybridge Tavistock Bickleigh
Woolwell Glenholt Chaddlewood Colebrook Hemerdon Sparkwell Cornwood Lee Moor Wembury"""
PLACES: Final = _PLACES.split()

HEALTH_SETTINGS: Final = (
    "University Hospitals Plymouth",
    "Derriford Emergency Department",
    "Plymouth CAMHS",
    "Cumberland Centre Urgent Treatment",
    "Livewell Southwest",
    "Plymouth Liaison and Diversion",
    "Mount Gould Hospital",
    "Plymouth GP Practice",
)

TEAMS: Final = {
    "socialcare": ("Plymouth Central CIN", "North Locality CIN", "Children in Care", "Assessment"),
    "early_help": ("Early Help West", "Early Help East", "Family Hubs"),
    "health": ("Safeguarding Children", "School Nursing", "Health Visiting"),
    "camhs": ("CAMHS Core", "CAMHS Crisis"),
    "yot": ("Youth Justice",),
    "police": ("Public Protection", "Missing Persons", "Exploitation Team"),
    "substance_misuse": ("Harbour Young People",),
    "school": ("DSL",),
    "other": ("Housing Options", "Youth Service"),
}

WORKERS: Final = """Sam Reed|Alex Moss|Priya Shah|Jo Hart|Chris Lane|Kim Ford|Dee Walsh|Ravi
Patel|Nia Evans|Tom Grey|Beth Cole|Lee Marsh|Ana Silva|Ife Okoro|Mo Ahmed|Jen Blake""".replace(
    "\n", " "
).split("|")

# What happened, per concern: the first words of a narrative or summary.
HAPPENED: Final = {
    "domestic_abuse": "Officers attended a domestic incident at the home; the child was present",
    "missing": "Reported missing overnight and found by officers the next morning",
    "child_sexual_exploitation": "Seen getting into cars with older males near the city centre",
    "child_criminal_exploitation": "Found with cash and two phones away from home in another town",
    "mental_health": "Low mood and not sleeping; disclosed feeling hopeless",
    "self_harm": "Cuts to the forearm, disclosed self-harm over the past weeks",
    "substance_misuse": "Found intoxicated in a park late at night with older youths",
    "neglect": "Home cold and without food; the child was unwashed and hungry",
    "physical_abuse": "Bruising to the face and arms, explanation unclear",
    "sexual_abuse": "Disclosed to a teacher that an adult had touched them",
    "emotional_abuse": "Shouting and threats at home reported by neighbours",
    "online_harm": "Sent images to an unknown adult met on a gaming site",
    "knife_crime": "Stopped and searched, a knife was found in the bag",
    "offending": "Arrested for criminal damage near the station with older youths",
    "homelessness": "Family evicted and staying in emergency accommodation",
    "other": "Concern raised by a member of the public",
}

_FILLER: Final = """the child was seen alone and spoke about home school friends and
worries; the parent engaged with officers and agreed to speak with partner agencies;
previous contacts with the family are noted on the system; advice was given and the
child was safe when officers left; the school has been told of earlier concerns"""
FILLER: Final = _FILLER.split()

# Phrases of broker/data/language.json, used by a few narratives as real records do.
BLAMING: Final = (
    "keeps going missing",
    "putting herself at risk",
    "associating with",
    "lifestyle choice",
    "attention seeking",
    "recruited",
)


def words(rng: random.Random, count: int) -> str:
    """`count` words of plausible filler, for text whose length matters."""
    return " ".join(rng.choice(FILLER) for _ in range(count))


def narrative(rng: random.Random, concerns: list[str], blaming_rate: float = 0.04) -> str:
    """A narrative of 15 to 45 words starting with what happened."""
    head = HAPPENED[concerns[0]] if concerns else "Seen as part of routine care"
    text = f"{head}; {words(rng, rng.randrange(8, 35))}."
    if rng.random() < blaming_rate:
        text += f" Officer notes the child {rng.choice(BLAMING)} older peers."
    return text


def schools(rng: random.Random, primaries: int, secondaries: int) -> list[tuple[str, str, int]]:
    """(urn, name, phase) with phase 1 primary, 2 secondary; URNs in the 11xxxx range."""
    out: list[tuple[str, str, int]] = []
    urns = rng.sample(range(110_000, 140_000), primaries + secondaries)
    for i, urn in enumerate(urns):
        place = PLACES[i % len(PLACES)]
        if i < primaries:
            out.append((str(urn), f"{place} Primary", 1))
        else:
            out.append((str(urn), f"{place} Academy", 2))
    return out
