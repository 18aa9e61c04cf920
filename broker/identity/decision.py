"""What the matcher decided about a record, how, and why — in words free of personal data.

A decision is evidence for a person: an IDENTITY_REVIEW alert must say why the broker
was unsure, and a link must be auditable afterwards. So it keeps the rule that decided,
the match weight, each field's level and the candidate child ids, and `explain()` turns
them into plain English naming *fields*, never *values*, so the text can go into an
alert and into a log alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from broker.identity.scoring import AGREEING, Level


class Outcome(StrEnum):
    """Linked to a known child, a new child, or IDENTITY_REVIEW for a person to decide."""

    LINKED = "linked"
    NEW = "new"
    REVIEW = "review"


class Reason(StrEnum):
    """Why the outcome is what it is (the machine-readable half of `explain`)."""

    IDENTIFIER = "identifier"  # an equal identifier, nothing contradicting
    MATCH = "match"  # probabilistic score above the link threshold
    NO_CANDIDATE = "no_candidate"  # nothing close enough to consider
    WEAK_MATCH = "weak_match"  # between the review and link thresholds
    AMBIGUOUS = "ambiguous"  # more than one candidate above the link threshold
    DOB_CONTRADICTS = "dob_contradicts"  # equal identifier, DOB beyond a keying error
    IDENTIFIER_CONTRADICTS = "identifier_contradicts"  # an identifier of the same kind differs
    IDENTIFIERS_SPLIT = "identifiers_split"  # identifiers point at different children
    GIVEN_NAME_UNSURE = "given_name_unsure"  # would link, but the given names may be twins'
    TWIN_NAMES = "twin_names"  # would link, but two forms of one name, each a child's name


FIELD_WORDS: dict[str, str] = {
    "given_name": "given name",
    "family_name": "family name",
    "date_of_birth": "date of birth",
    "postcode": "postcode",
    "sex": "sex",
    "nhs_number": "NHS number",
    "upn": "unique pupil number",
    "socialcare_id": "social care id",
    "police_person_id": "police person id",
}

_LEVEL_WORDS: dict[Level, tuple[str, str]] = {
    # level -> (singular verb phrase, plural verb phrase)
    Level.EXACT: ("agrees", "agree"),
    Level.VARIANT: ("agrees as a short form or variant", "agree as short forms or variants"),
    Level.PART: ("agrees with one part of a double-barrelled name", "agree in part"),
    Level.FUZZY: ("agrees allowing for a typing error", "agree allowing for typing errors"),
    Level.UNSURE: (
        "is one letter from the other, as a typing error or a sibling's name may be",
        "are one letter from the others, as typing errors or siblings' names may be",
    ),
    Level.TYPO: (
        "agrees allowing for a typing error: a spelling no known child bears, one letter "
        "from this child's name",
        "agree allowing for typing errors no known child's name explains",
    ),
    Level.PHONETIC: ("sounds alike", "sound alike"),
    Level.SWAPPED: ("agrees with day and month swapped", "agree with day and month swapped"),
    Level.ONE_DIGIT: ("agrees but for one digit", "agree but for one digit"),
    Level.HOUSEHOLD: (
        "is where another child of the family, who lived with this one, has been recorded "
        "since (the family moved)",
        "are where the family has been recorded since",
    ),
    Level.SECTOR: ("is in the same sector", "are in the same sector"),
    Level.DISTRICT: ("is in the same district", "are in the same district"),
    Level.MISSING: ("is not recorded", "are not recorded"),
    Level.DISAGREE: ("differs", "differ"),
}


@dataclass(frozen=True, slots=True)
class LinkDecision:
    """The outcome of `IdentityIndex.link` for one record.

    `child_id` is set only when linked. `candidates` are the known children the
    decision was about (the linked one, or those a reviewer must choose between).
    `levels` are the field comparisons against the linked or best candidate.
    """

    outcome: Outcome
    reason: Reason
    rule: str  # "identifier:nhs_number", "probabilistic" or "none"
    child_id: str | None = None
    score: float | None = None
    levels: tuple[tuple[str, Level], ...] = ()
    candidates: tuple[str, ...] = ()
    threshold: float | None = None  # the threshold the score was compared with
    siblings: tuple[str, ...] = ()  # same family name and DOB, clearly different given name

    @property
    def agreed(self) -> tuple[str, ...]:
        """Fields that agreed at some level (exactly or allowing for an error)."""
        return tuple(f for f, level in self.levels if level in AGREEING)

    @property
    def disagreed(self) -> tuple[str, ...]:
        """Fields that disagreed."""
        return tuple(f for f, level in self.levels if level is Level.DISAGREE)

    def explain(self) -> str:
        """A plain-English account naming fields and rules, never personal values."""
        words = (self.reason, self.rule, self.score, len(self.siblings), len(self.candidates))
        return _explain(words, self.levels)


@lru_cache(maxsize=4096)
def _explain(
    words: tuple[Reason, str, float | None, int, int], levels: tuple[tuple[str, Level], ...]
) -> str:
    """`LinkDecision.explain` from what its words depend on (reason, rule, score, how
    many siblings and candidates; the levels): cached, because every linked event
    carries its note and most are linked alike (on an identifier, with the same levels)."""
    head = _headline(*words)
    detail = _describe_levels(levels)
    return f"{head}; {detail}." if detail else f"{head}."


def _headline(
    reason: Reason, rule: str, score: float | None, siblings: int, candidates: int
) -> str:
    kind = rule.removeprefix("identifier:")
    score_text = f"{score:.1f}" if score is not None else "n/a"
    if reason is Reason.NO_CANDIDATE and score is None:
        if siblings:
            return (
                f"New child: {siblings} known child(ren) share the family name "
                "and date of birth but have a clearly different given name (siblings or "
                "twins)"
            )
        return "New child: no known child is close enough to compare"
    return _HEADLINES[reason].format(
        id=FIELD_WORDS.get(kind, kind), score=score_text, many=candidates
    )


_HEADLINES: dict[Reason, str] = {
    Reason.IDENTIFIER: "Linked on {id}",
    Reason.MATCH: "Linked on a match of names, date of birth and postcode (weight {score})",
    Reason.NO_CANDIDATE: "New child: the best match weight {score} is below the review threshold",
    Reason.WEAK_MATCH: (
        "Needs identity review: match weight {score} is too weak to link but too strong to ignore"
    ),
    Reason.AMBIGUOUS: "Needs identity review: {many} known children match well enough to link",
    Reason.DOB_CONTRADICTS: (
        "Needs identity review: {id} matches a known child but the date of birth "
        "differs by more than a keying error"
    ),
    Reason.IDENTIFIER_CONTRADICTS: (
        "Needs identity review: the record matches a known child but an identifier "
        "of the same kind differs"
    ),
    Reason.IDENTIFIERS_SPLIT: "Needs identity review: the identifiers point at {many} children",
    Reason.GIVEN_NAME_UNSURE: (
        "Needs identity review: the match weight {score} is enough to link, but the given "
        "names differ by one letter where a typing error and a twin's name look alike "
        "(the first letter, a name of three letters or fewer, or a spelling as near to "
        "another known name)"
    ),
    Reason.TWIN_NAMES: (
        "Needs identity review: the match weight {score} is enough to link, but the given "
        "names are two forms of one name that children are each known by, and the family "
        "name, date of birth and postcode agree, as twins' do"
    ),
}


def _describe_levels(levels: tuple[tuple[str, Level], ...]) -> str:
    """Group fields by level: "given name and family name agree; postcode differs"."""
    groups: dict[Level, list[str]] = {}
    for field, level in levels:
        groups.setdefault(level, []).append(FIELD_WORDS.get(field, field))
    clauses = []
    for level, fields in groups.items():
        singular, plural = _LEVEL_WORDS[level]
        verb = singular if len(fields) == 1 else plural
        clauses.append(f"{_join(fields)} {verb}")
    return "; ".join(clauses)


def _join(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]
