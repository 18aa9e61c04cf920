"""A seeded generator of synthetic children and of noisy agency records of them.

Nothing here is a real person. Children live in households (a family name, a postcode,
one to four children, some of them twins), so that the hard cases of record linkage —
siblings and twins who share a family name, postcode and even a date of birth — occur
as they do in life. Agency records of a child then carry the errors real records have,
at the rates below; the matcher's m probabilities (broker/identity/scoring.py) were
estimated from these rates.

The name lists are this module's own, independent of the matcher's list of recognised
given names: some names here are unknown to the matcher, as real names will be.

`Generator(seed, hard_names=True)` (the linkage benchmark's) adds the given-name cases
hardest for a matcher: twins named one letter apart where one name or both are unknown
to it (`ONE_LETTER_TWIN_PAIRS`: Tia and Mia, Jax and Max, Jason and Mason), where a
matcher that took that letter for a typing error would merge the twins; typing errors
at the first letter (`GIVEN_TYPO_FIRST_LETTER`); and no household that gives two
children one name in two forms (Sophie and Sophia). It is off by default, so that the
synthetic council (bench/council.py) draws the same stream as before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from broker.identity import PersonRecord

REFERENCE_DATE = date(2025, 6, 1)  # "today" for ages: fixed so that runs are reproducible

# Error rates of agency records (each applied independently to a record).
GIVEN_TYPO = 0.05  # one-character edit
GIVEN_TYPO_FIRST_LETTER = 0.05  # of those, the share at the first letter (hard_names)
GIVEN_SHORT_FORM = 0.04  # Will for William, when there is one
FAMILY_TYPO = 0.04
FAMILY_HYPHENATED = 0.03  # a second family name added, or one part dropped
FAMILY_CHANGED = 0.03  # a different family name altogether (e.g. a step-parent's)
DOB_SWAPPED = 0.02  # day and month swapped (when both are ≤ 12)
DOB_ONE_DIGIT = 0.02  # one wrong digit
POSTCODE_MISSING = 0.15
POSTCODE_MOVED = 0.08  # a new address: 40 % of moves stay in the same district
SEX_MISSING = 0.30
UPPER_CASE = 0.15  # some systems shout

BOYS = """Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry
William Freddie Alfie Theo Archie Joshua Alexander James Isaac Edward Lucas Tommy Finley Max
Logan Ethan Mohammed Teddy Benjamin Arlo Joseph Sebastian Harrison Elijah Adam Daniel Samuel
Louie Mason Reuben Albie Rory Jaxon Hugo Luca Zachary Reggie Hunter Louis Dylan Albert David
Jude Frankie Roman Ezra Toby Riley Carter Ronnie Frederick Gabriel Stanley Bobby Jesse Michael
Elliot Grayson Liam Jenson Ellis Harley Harvey Jayden Jake Ralph Rowan Jasper Charles Finn
Felix Caleb Chester Jackson Hudson Leon Ibrahim Ryan Blake Alfred Oakley Matthew Luke Nathan
Aaron Connor Kai Kian Tyler Owen Callum Lewis Cameron Bailey Ewan Jamie Declan Dexter Ashton
Kyle Corey Brandon Kieran Jordan Aiden Sonny Otis Milo Rhys Evan Ayaan Hamza Yusuf Zain Omar
Ali Bilal Kacper Jakub Filip Oskar Szymon Mateo Dominic Patrick Conor Cian Seth Tobias Spencer
Marcus Vincent Xavier Nico Ruben Austin Jax Brody Cody Kayden Morgan Rio Tate Lochlan Fraser
Angus Rafferty Idris Kobe Tristan Lorenzo Ronan Alistair Denis Emre Kofi Tariq"""

GIRLS = """Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella
Grace Daisy Sienna Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie
Matilda Maya Sophie Alice Emilia Isabelle Ruby Luna Maisie Aria Penelope Mila Bonnie Eva
Hallie Eliza Ada Violet Esme Arabella Imogen Jessica Delilah Layla Harriet Thea Rose Orla
Robyn Lola Georgia Ellie Lucy Hannah Erin Amber Chloe Megan Holly Abigail Scarlett Summer
Molly Darcie Lacey Niamh Leah Lexi Zara Nancy Aisha Maryam Fatima Zainab Hafsa Ayesha Amira
Zuzanna Julia Hanna Maja Lena Alicia Bethany Caitlin Courtney Paige Shannon Jade Kayla Keira
Tegan Nia Seren Ffion Cerys Elin Rebecca Laura Sarah Katie Natalie Naomi Bella Heidi Iris
Clara Beatrice Edith Mabel Nell Winnie Aurora Elodie Margot Cora Nova Ellie-Mae Lilly-Mae
Lacey-Mae Kaci Lyla Macie Mollie Tilly Gracie Hollie Jasmine Amelie Eden Annabelle Elena
Gabriella Bethan Carys Anya Aleena Inaya Zoya Hiba Khadija Safa Amna Roxy Skye Autumn Demi
Kiera Primrose Wren Marnie Ottilie Saoirse Aoife Blessing Precious Oluwaseun"""

FAMILY = """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson
Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood
Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James
Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter
Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson
Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt
Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker
Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson
Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West
Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry
Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter
Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding
Porter Robertson Newton Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates
Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren
Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper
Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne
Johnston Gordon Doyle Wallace Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read
Miles Stevenson Stephenson Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Sullivan
Whitehead Mann Frost Lambert Stephens Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham
Quinn Barnett Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond
Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French Jarvis Gibbs Ferguson
Hayward Carroll Douglas Dickinson Todd Barlow Peters Knowles Hartley Miah Simmons Morton Field
Morrison Norris Townsend Preston Hancock Thornton Baldwin Burrows Briggs Storey Pugh Wyatt
Kowalski Nowak Wiśniewski Popescu Nguyen Chen Wang Okafor Adeyemi Mensah Osei Penrose Trelawny"""

# Rare family names are built from parts, for the long tail real populations have.
RARE_HEADS = "Tre Pen Pol Ash Brook Hart Wood Fair Black Win Ald Hol Kings Marl Thorn Brad Chal"
RARE_TAILS = "wick ford ley ton ham worth by den field more ridge well cott stone hurst combe"

SHORT_FORMS = {
    "William": ["Will", "Billy"],
    "Alexander": ["Alex"],
    "Benjamin": ["Ben"],
    "Joshua": ["Josh"],
    "Thomas": ["Tom", "Tommy"],
    "Samuel": ["Sam"],
    "Daniel": ["Dan"],
    "Matthew": ["Matt"],
    "Frederick": ["Freddie"],
    "Jacob": ["Jake"],
    "Joseph": ["Joe"],
    "Oliver": ["Ollie"],
    "Edward": ["Ed", "Eddie"],
    "Charles": ["Charlie"],
    "James": ["Jamie"],
    "Zachary": ["Zach"],
    "Isabella": ["Bella", "Izzy"],
    "Elizabeth": ["Beth"],
    "Jessica": ["Jess"],
    "Rebecca": ["Becky"],
    "Charlotte": ["Lottie"],
    "Abigail": ["Abbie"],
    "Katie": ["Katy"],
    "Sophie": ["Sophia"],
    "Amelia": ["Millie"],
    "Natalie": ["Nat"],
    "Sebastian": ["Seb"],
    "Theo": ["Theodore"],
    "Lily": ["Lilly"],
    "Mohammed": ["Muhammad"],
    "Alfie": ["Alf"],
    "Gabriella": ["Gabby"],
    "Annabelle": ["Annie"],
    "Eleanor": ["Ellie"],
}

# Twins are often given similar names; a third of generated twins get one of these pairs.
TWIN_PAIRS = [
    ("Ava", "Eva"),
    ("Ella", "Emma"),
    ("Jack", "Jake"),
    ("Leo", "Leon"),
    ("Olivia", "Oliver"),
    ("Lily", "Lola"),
    ("Isla", "Ivy"),
    ("Noah", "Nora"),
    ("Finley", "Freya"),
    ("Mia", "Max"),
    ("Harry", "Harvey"),
    ("Ruby", "Rosie"),
    ("Alfie", "Archie"),
    ("Evie", "Ellie"),
]
# With hard_names, also these: one letter apart, and at least one name of each is not
# among the matcher's recognised names (broker/identity/names.py). Their names join the
# pools below as ordinary names too, so that their typing errors are measured as well.
ONE_LETTER_TWIN_PAIRS = [
    ("Tia", "Mia"),
    ("Jax", "Max"),
    ("Lia", "Nia"),
    ("Ria", "Mia"),
    ("Ida", "Ada"),
    ("Eli", "Ali"),
    ("Jason", "Mason"),
]
HARD_BOYS = "Eli Jason"
HARD_GIRLS = "Tia Lia Ria Ida"
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


@dataclass(frozen=True, slots=True)
class Child:
    """A synthetic child: the true identity, and who their twin is, if any."""

    child_id: str
    household: int
    truth: PersonRecord
    twin_id: str | None = None


@dataclass(frozen=True, slots=True)
class Labelled:
    """An agency record of a child, labelled with the child it is really about."""

    record: PersonRecord
    child_id: str
    errors: tuple[str, ...]


def nhs_check_digit(nine: str) -> int | None:
    """Modulus 11 check digit of the first nine digits; None when it would be 10 (invalid)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def upn_check_letter(twelve: str) -> str:
    """The UPN check letter of the twelve characters after it (weights 2..13, mod 23)."""
    total = sum(int(d) * w for d, w in zip(twelve, range(2, 14), strict=True))
    return _UPN_LETTERS[total % 23]


def _typo_kind(at: int, length: int) -> str:
    """Where in the name a typing error landed: its first letter, its last, or between."""
    if at == 0:
        return "given_typo_first"
    return "given_typo_last" if at >= length - 1 else "given_typo_inner"


def _forms(given: str) -> set[str]:
    """A name with its short forms and what it is a short form of: Sophie and Sophia."""
    forms = {given, *SHORT_FORMS.get(given, ())}
    forms.update(full for full, short in SHORT_FORMS.items() if given in short)
    return forms


def _zipf_weights(count: int, offset: int) -> list[float]:
    return [1.0 / (rank + offset) for rank in range(1, count + 1)]


class Generator:
    """Seeded: the same seed gives the same children and the same records.

    `hard_names`: add the given-name cases hardest for a matcher (see the module
    docstring); without it the same seed gives what it always gave.
    """

    def __init__(self, seed: int = 0, *, hard_names: bool = False, life: bool = False) -> None:
        self.rng = random.Random(seed)
        self.hard_names = hard_names
        self.life = life
        self.boys = BOYS.split() + (HARD_BOYS.split() if hard_names else [])
        self.girls = GIRLS.split() + (HARD_GIRLS.split() if hard_names else [])
        self.twin_pairs = TWIN_PAIRS + (ONE_LETTER_TWIN_PAIRS if hard_names else [])
        self._girl_set = frozenset(self.girls)
        self.family = FAMILY.split()
        self.rare = [h + t for h in RARE_HEADS.split() for t in RARE_TAILS.split()]
        self._boy_w = _zipf_weights(len(self.boys), 10)
        self._girl_w = _zipf_weights(len(self.girls), 10)
        self._family_w = _zipf_weights(len(self.family), 20)
        self._districts = [f"PL{i}" for i in range(1, 33)] + [f"TQ{i}" for i in range(1, 15)]
        self._used_nhs: set[str] = set()
        self._serial = 0

    @property
    def districts(self) -> list[str]:
        """The postcode districts the council's households live in."""
        return self._districts

    # -- children ---------------------------------------------------------------------

    def children(self, count: int) -> list[Child]:
        """At least `count` children, in households (siblings and some twins)."""
        out: list[Child] = []
        household = 0
        while len(out) < count:
            out.extend(self._household(household))
            household += 1
        return out

    def _household(self, household: int) -> list[Child]:
        rng = self.rng
        family = self._family_name()
        postcode = self.postcode()
        size = rng.choices([1, 2, 3, 4], weights=[40, 35, 17, 8])[0]
        twins = size >= 2 and rng.random() < 0.08
        first = REFERENCE_DATE - timedelta(days=rng.randrange(0, 18 * 365))
        dobs = [first]
        while len(dobs) < size:
            if twins and len(dobs) == 1:
                dobs.append(first)
                continue
            gap = timedelta(days=rng.randrange(300, 6 * 365))
            older = dobs[-1] - gap
            if REFERENCE_DATE - older > timedelta(days=18 * 365 - 1):
                break
            dobs.append(older)
        names: set[str] = set()
        kids: list[Child] = []
        pair = rng.choice(self.twin_pairs) if twins and rng.random() < 0.35 else None
        for i, dob in enumerate(dobs):
            if pair is not None and i < 2:
                given = pair[i]
                sex = "F" if given in self._girl_set else "M"
            else:
                sex = rng.choice("MF")
                given = self._given(sex, names)
            # no two children of one household share a name (in two forms, with hard_names)
            names.update(_forms(given) if self.hard_names else (given,))
            truth = self._truth(given, family, dob, postcode, sex)
            kids.append(Child(f"child-{household}-{i}", household, truth))
        if twins:
            a, b = kids[0], kids[1]
            kids[0] = replace(a, twin_id=b.child_id)
            kids[1] = replace(b, twin_id=a.child_id)
        return kids

    def _given(self, sex: str, taken: set[str]) -> str:
        pool, weights = (self.boys, self._boy_w) if sex == "M" else (self.girls, self._girl_w)
        while True:
            name = self.rng.choices(pool, weights=weights)[0]
            if name not in taken:
                return name

    def _family_name(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.2:
            return rng.choice(self.rare)
        name = rng.choices(self.family, weights=self._family_w)[0]
        if roll > 0.95:
            other = rng.choices(self.family, weights=self._family_w)[0]
            if other != name:
                return f"{name}-{other}"
        return name

    def postcode(self, district: str | None = None) -> str:
        rng = self.rng
        letters = "".join(rng.choice(_POSTCODE_LETTERS) for _ in range(2))
        return f"{district or rng.choice(self._districts)} {rng.randrange(1, 10)}{letters}"

    def _truth(self, given: str, family: str, dob: date, postcode: str, sex: str) -> PersonRecord:
        rng = self.rng
        age = (REFERENCE_DATE - dob).days / 365.25
        self._serial += 1
        return PersonRecord(
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            nhs_number=self._nhs() if rng.random() < 0.97 else None,
            upn=self._upn() if age >= 4 and rng.random() < 0.92 else None,
            socialcare_id=f"SC{self._serial:07d}" if rng.random() < 0.25 else None,
            police_person_id=f"P{self._serial:08d}" if age >= 10 and rng.random() < 0.15 else None,
            postcode=postcode,
            sex=sex,
        )

    def _nhs(self) -> str:
        while True:
            nine = str(self.rng.randrange(400_000_000, 999_999_999))
            check = nhs_check_digit(nine)
            if check is not None and nine + str(check) not in self._used_nhs:
                self._used_nhs.add(nine + str(check))
                return nine + str(check)

    def _upn(self) -> str:
        twelve = f"{self.rng.randrange(800, 940)}{self.rng.randrange(10**8, 10**9)}"
        return upn_check_letter(twelve) + twelve

    # -- records ----------------------------------------------------------------------

    def known(self, child: Child) -> PersonRecord:
        """What the index first learns of a child: the truth, with some identifiers unknown."""
        rng = self.rng
        truth = child.truth
        return replace(
            truth,
            nhs_number=truth.nhs_number if rng.random() < 0.7 else None,
            upn=truth.upn if rng.random() < 0.6 else None,
            socialcare_id=truth.socialcare_id if rng.random() < 0.6 else None,
            police_person_id=truth.police_person_id if rng.random() < 0.5 else None,
        )

    def agency_record(self, child: Child) -> Labelled:
        """A record of the child from one agency, with that agency's identifiers and errors."""
        rng = self.rng
        truth = child.truth
        errors: list[str] = []
        agency = rng.choices(
            ["health", "school", "police", "socialcare", "other"], [30, 25, 25, 10, 10]
        )[0]
        keep = {
            "nhs_number": {"health": 0.9, "socialcare": 0.5}.get(agency, 0.1),
            "upn": {"school": 0.9}.get(agency, 0.05),
            "socialcare_id": {"socialcare": 0.9}.get(agency, 0.05),
            "police_person_id": {"police": 0.7}.get(agency, 0.0),
        }
        ids = {k: (getattr(truth, k) if rng.random() < p else None) for k, p in keep.items()}
        given = truth.given_name
        if rng.random() < GIVEN_SHORT_FORM and given in SHORT_FORMS:
            given = rng.choice(SHORT_FORMS[given])
            errors.append("given_short_form")
        if rng.random() < GIVEN_TYPO:
            if self.life:  # a typing error lands at any letter, the first as often as any
                at = rng.randrange(len(given))
                errors.append(_typo_kind(at, len(given)))
                given = self.typo(given, at=at)
            else:
                first_letter = self.hard_names and rng.random() < GIVEN_TYPO_FIRST_LETTER
                given = self.typo(given, first_letter=first_letter)
                errors.append("given_typo_first_letter" if first_letter else "given_typo")
        family = truth.family_name
        roll = rng.random()
        if roll < FAMILY_HYPHENATED:
            family = self._hyphenate(family)
            errors.append("family_hyphenated")
        elif roll < FAMILY_HYPHENATED + FAMILY_CHANGED:
            family = rng.choices(self.family, weights=self._family_w)[0]
            errors.append("family_changed")
        elif roll < FAMILY_HYPHENATED + FAMILY_CHANGED + FAMILY_TYPO:
            family = self.typo(family)
            errors.append("family_typo")
        dob = truth.date_of_birth
        roll = rng.random()
        if roll < DOB_SWAPPED and dob.day <= 12 and dob.day != dob.month:
            dob = date(dob.year, dob.day, dob.month)
            errors.append("dob_swapped")
        elif DOB_SWAPPED <= roll < DOB_SWAPPED + DOB_ONE_DIGIT:
            dob = self.one_digit(dob)
            errors.append("dob_one_digit")
        postcode: str | None = truth.postcode
        roll = rng.random()
        if roll < POSTCODE_MISSING:
            postcode = None
            errors.append("postcode_missing")
        elif roll < POSTCODE_MISSING + POSTCODE_MOVED and postcode and not self.life:
            same = rng.random() < 0.4
            postcode = self.postcode(postcode.split()[0] if same else None)
            errors.append("postcode_moved")
        if rng.random() < UPPER_CASE:
            given, family = given.upper(), family.upper()
        sex = (
            None
            if rng.random() < SEX_MISSING
            else rng.choice(
                [
                    truth.sex,
                    truth.sex and truth.sex.lower(),
                    {"M": "Male", "F": "Female"}.get(truth.sex or ""),
                ]
            )
        )
        record = PersonRecord(given, family, dob, postcode=postcode, sex=sex, **ids)
        return Labelled(record, child.child_id, tuple(errors))

    def typo(self, name: str, first_letter: bool = False, at: int | None = None) -> str:
        """One character inserted, deleted, substituted or two neighbours transposed.

        The first letter is left alone unless `first_letter` (or `at`, a position to
        mistype, says otherwise): the older generator held typing errors rarer there.
        """
        rng = self.rng
        letters = "abcdefghijklmnopqrstuvwxyz"
        for _ in range(20):
            if at is not None:
                i = min(at, len(name) - 1)
            else:
                i = 0 if first_letter or len(name) < 2 else rng.randrange(1, len(name))
            op = rng.choice(["sub", "del", "ins", "swap"])
            if op == "sub":
                out = name[:i] + rng.choice(letters) + name[i + 1 :]
            elif op == "del" and len(name) > 3:
                out = name[:i] + name[i + 1 :]
            elif op == "ins":
                out = name[:i] + rng.choice(letters) + name[i:]
            elif op == "swap" and i < len(name) - 1:
                out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
            else:
                continue
            if out.casefold() != name.casefold():
                return out
        return name + "e"

    def _hyphenate(self, family: str) -> str:
        if "-" in family:
            return self.rng.choice(family.split("-"))
        other = self.rng.choices(self.family, weights=self._family_w)[0]
        return f"{family}-{other}" if self.rng.random() < 0.5 else f"{other}-{family}"

    def one_digit(self, dob: date) -> date:
        """The date with one digit changed, still a valid date."""
        text = dob.strftime("%Y%m%d")
        while True:
            i = self.rng.randrange(2, 8)  # the century is never mistyped
            digit = str(self.rng.randrange(10))
            if digit == text[i]:
                continue
            candidate = text[:i] + digit + text[i + 1 :]
            try:
                return date(int(candidate[:4]), int(candidate[4:6]), int(candidate[6:]))
            except ValueError:
                continue
