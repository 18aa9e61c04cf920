"""Language review: the shipped list mirrors language.md, matching follows its rules,
and a partnership's own list loads (or is refused, clearly) without a code change."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.errors import ConfigurationError
from broker.language import review as language
from broker.language.review import (
    LanguageEntry,
    LanguageFinding,
    LanguageList,
    load_language_list,
    parse_language_list,
    review,
    review_fields,
)

SPEC = Path("/work/shared/spec")
needs_spec = pytest.mark.skipif(not SPEC.exists(), reason="the shared spec is not mounted")
SHIPPED = load_language_list()
SHIPPED_FILE = Path(language.__file__).parents[1] / "data" / "language.json"


def spec_table() -> list[tuple[list[str], str]]:
    """language.md's table: (phrases split on " / ", use instead)."""
    rows = []
    for line in (SPEC / "language.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in {"phrase", ""} or set(cells[0]) <= {"-"}:
            continue
        rows.append(([p.strip() for p in cells[0].split(" / ")], cells[1]))
    return rows


def phrases(text: str, lst: LanguageList = SHIPPED) -> list[str]:
    return [f.phrase for f in review(text, lst)]


def all_phrases() -> list[tuple[str, str]]:
    return [(p, e.suggestion) for e in SHIPPED.entries for p in e.phrases]


# -- the shipped list -------------------------------------------------------------------


@needs_spec
def test_the_shipped_list_is_language_md() -> None:
    table = spec_table()
    assert len(table) == 16
    assert [(list(e.phrases), e.suggestion) for e in SHIPPED.entries] == table


@pytest.mark.parametrize(("phrase", "suggestion"), all_phrases())
def test_every_phrase_is_found_in_a_sentence(phrase: str, suggestion: str) -> None:
    text = f"The worker noted that the child {phrase} at the weekend, per the family."
    assert review(text, SHIPPED) == [LanguageFinding(phrase, suggestion)]


@pytest.mark.parametrize(("phrase", "suggestion"), all_phrases())
def test_every_phrase_is_found_in_any_case(phrase: str, suggestion: str) -> None:
    assert [f.suggestion for f in review(phrase.upper() + ".", SHIPPED)] == [suggestion]
    assert [f.suggestion for f in review(phrase.lower(), SHIPPED)] == [suggestion]


def test_the_bad_input_example_names_recruited_and_drug_runner() -> None:
    narrative = "Officers believe he was recruited to carry drugs and is a drug runner."
    if (SPEC / "examples" / "bad_input.json").exists():
        scenario = json.loads((SPEC / "examples" / "bad_input.json").read_text())
        narrative = next(
            e["narrative"] for e in scenario["events"] if "recruited" in e["narrative"]
        )
    findings = review(narrative, SHIPPED)
    assert [f.phrase for f in findings] == ["recruited", "drug runner"]
    assert findings[0].suggestion == "criminally exploited"
    assert findings[1].suggestion == "a child criminally exploited to carry drugs"


# -- matching rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He was recruited.", ["recruited"]),
        ("Recruited.", ["recruited"]),
        ("(recruited)", ["recruited"]),
        ("recruited, then", ["recruited"]),
        ("recruitedx", []),
        ("unrecruited", []),
        ("recruiter", []),
        ("unrecruited, then recruited", ["recruited"]),  # a later whole word still counts
        ("re-recruited", ["recruited"]),  # a hyphen ends a word
        ("he is a drug runner", ["drug runner"]),
        ("drug runners", []),  # whole words: plural is not listed
        ("drugrunner", []),
        ("is promiscuous", ["promiscuous"]),
        ("sexually\n   active", ["sexually active"]),  # flexible whitespace
        ("sexually\tactive", ["sexually active"]),
    ],
)
def test_word_boundaries_and_whitespace(text: str, expected: list[str]) -> None:
    assert phrases(text) == expected


@pytest.mark.parametrize("pronoun", ["himself", "herself", "themselves", "themself", "HIMSELF"])
@pytest.mark.parametrize("verb", ["putting", "placing"])
def test_reflexive_pronouns_stand_for_one_another(pronoun: str, verb: str) -> None:
    assert phrases(f"She keeps {verb} {pronoun} at risk.") == [f"{verb} herself at risk"]


def test_other_pronouns_are_not_reflexives() -> None:
    assert phrases("putting her at risk") == []
    assert phrases("putting herselfish at risk") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("attention seeking", "attention seeking"),
        ("attention-seeking", "attention-seeking"),
        ("Attention-Seeking", "attention-seeking"),
        ("attention\u2010seeking", "attention-seeking"),  # a typographic hyphen
        ("attention -  seeking", "attention-seeking"),
        ("attention\nseeking", "attention seeking"),
        ("risk-taking behaviour", "risk-taking behaviour"),
        ("risk taking behaviour", "risk-taking behaviour"),  # spaced, same phrase
        ("drug-runner", "drug runner"),
    ],
)
def test_hyphen_and_space_variants(text: str, expected: str) -> None:
    assert phrases(f"Described as {text} by staff.") == [expected]


def test_each_phrase_once_however_often_it_is_used() -> None:
    text = "recruited; recruited again; RECRUITED. Attention seeking and attention-seeking."
    assert phrases(text) == ["recruited", "attention seeking"]


def test_findings_in_order_of_first_use() -> None:
    text = "A money mule, promiscuous, associating with older males; a money mule."
    assert phrases(text) == ["money mule", "promiscuous", "associating with"]


def test_distinct_phrases_of_one_entry_are_each_named() -> None:
    text = "Putting herself at risk and placing himself at risk."
    assert phrases(text) == ["putting herself at risk", "placing herself at risk"]
    assert phrases("child prostitution and prostituting") == [
        "child prostitution",
        "prostituting",
    ]


def test_curly_and_straight_apostrophes_match() -> None:
    lst = LanguageList((LanguageEntry(("didn't engage",), "was not offered a way in"),))
    assert phrases("He didn\u2019t engage.", lst) == ["didn't engage"]
    assert phrases("He didn't engage.", lst) == ["didn't engage"]


def test_nothing_to_review() -> None:
    assert review("", SHIPPED) == []
    assert review(None, SHIPPED) == []
    assert review("Officers attended the address.", SHIPPED) == []


def test_a_finding_does_not_carry_the_narrative() -> None:
    finding = review("Tia Lewis of PL1 8UU was recruited.", SHIPPED)[0]
    assert "Tia" not in repr(finding)
    assert "PL1" not in repr(finding)


def test_review_fields_names_the_field() -> None:
    fields = {
        "narrative": "He is a drug runner.",
        "concern_summary": None,
        "impact_on_child": "He keeps going missing; attention-seeking; a drug runner.",
    }
    found = [(name, f.phrase) for name, f in review_fields(fields, SHIPPED)]
    assert found == [
        ("narrative", "drug runner"),
        ("impact_on_child", "keeps going missing"),
        ("impact_on_child", "attention-seeking"),
        ("impact_on_child", "drug runner"),
    ]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_review_never_fails_and_names_only_listed_phrases(text: str) -> None:
    listed = {p for e in SHIPPED.entries for p in e.phrases}
    findings = review(text, SHIPPED)
    assert {f.phrase for f in findings} <= listed
    assert len({f.phrase for f in findings}) == len(findings)


@given(
    st.text(alphabet=st.characters(categories=["Ll", "Lu", "Zs"]), max_size=40),
    st.sampled_from(all_phrases()),
    st.text(alphabet=st.characters(categories=["Ll", "Lu", "Zs"]), max_size=40),
)
def test_a_phrase_between_spaces_is_always_found(
    before: str, phrase_and_suggestion: tuple[str, str], after: str
) -> None:
    phrase, suggestion = phrase_and_suggestion
    findings = review(f"{before} {phrase} {after}", SHIPPED)
    assert suggestion in {f.suggestion for f in findings}


# -- a partnership's own list -----------------------------------------------------------


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "language.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_a_partnership_list_with_a_new_phrase_needs_no_code_change(tmp_path: Path) -> None:
    shipped = json.loads(SHIPPED_FILE.read_text())
    shipped["entries"].append(
        {
            "phrases": ["streetwise", "street-wise"],
            "suggestion": "the child may be being exploited",
            "note": "added by the partnership, 2026",
        }
    )
    lst = load_language_list(write(tmp_path, shipped))
    findings = review("Described as street wise and recruited.", lst)
    assert [(f.phrase, f.note) for f in findings] == [
        ("street-wise", "added by the partnership, 2026"),
        ("recruited", None),
    ]
    assert phrases("streetwise", lst) == ["streetwise"]


def test_a_minimal_list(tmp_path: Path) -> None:
    path = write(tmp_path, {"entries": [{"phrases": ["mule"], "suggestion": "exploited"}]})
    lst = load_language_list(path)
    assert phrases("a money mule", lst) == ["mule"]
    assert lst.source is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON (line 1"),
        ("[]", "top level must be a JSON object"),
        ({}, "entries: must be a non-empty list"),
        ({"entries": []}, "entries: must be a non-empty list"),
        ({"entries": ["recruited"]}, "entries[0]: must be an object"),
        ({"entries": [{"suggestion": "x"}]}, "entries[0].phrases: must be a non-empty list"),
        ({"entries": [{"phrases": [], "suggestion": "x"}]}, "entries[0].phrases: must be"),
        ({"entries": [{"phrases": "recruited", "suggestion": "x"}]}, "entries[0].phrases"),
        ({"entries": [{"phrases": ["a", 3], "suggestion": "x"}]}, "entries[0].phrases[1]"),
        ({"entries": [{"phrases": ["a", " "], "suggestion": "x"}]}, "entries[0].phrases[1]"),
        ({"entries": [{"phrases": ["a"]}]}, "entries[0].suggestion: must be a non-empty"),
        ({"entries": [{"phrases": ["a"], "suggestion": ""}]}, "entries[0].suggestion"),
        ({"entries": [{"phrases": ["a"], "suggestion": "x", "sugestion": "y"}]}, "sugestion"),
        ({"entries": [{"phrases": ["a"], "suggestion": "x", "note": 1}]}, "entries[0].note"),
        ({"entries": [{"phrases": ["--"], "suggestion": "x"}]}, "must contain a word"),
        ({"entries": [{"phrases": ["a"], "suggestion": "x"}], "version": 2}, "version: must"),
        ({"entries": [{"phrases": ["a"], "suggestion": "x"}], "entry": []}, "entry: unknown"),
    ],
)
def test_malformed_lists_are_refused_naming_the_problem(
    tmp_path: Path, content: Any, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ConfigurationError, match=re.escape(message)) as raised:
        load_language_list(path)
    assert str(path) in str(raised.value)


def test_a_phrase_claimed_by_two_entries_is_refused(tmp_path: Path) -> None:
    content = {
        "entries": [
            {"phrases": ["drug runner"], "suggestion": "x"},
            {"phrases": ["recruited"], "suggestion": "y"},
            {"phrases": ["Drug-Runner"], "suggestion": "z"},
        ]
    }
    with pytest.raises(ConfigurationError, match=r"entries\[2\]\.phrases\[0\].*entries\[0\]"):
        load_language_list(write(tmp_path, content))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    content = {
        "entries": [
            {"phrases": ["a"]},
            {"phrases": ["b"], "suggestion": "x"},
            {"phrases": [], "suggestion": "y"},
        ]
    }
    with pytest.raises(ConfigurationError) as raised:
        load_language_list(write(tmp_path, content))
    text = str(raised.value)
    assert "2 problem(s)" in text
    assert "entries[0].suggestion" in text
    assert "entries[2].phrases" in text


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_language_list(tmp_path / "absent.json")


def test_a_list_built_in_code_is_validated_too() -> None:
    with pytest.raises(ConfigurationError, match="already listed"):
        LanguageList(
            (
                LanguageEntry(("putting herself at risk",), "x"),
                LanguageEntry(("putting themselves at risk",), "y"),
            )
        )


def test_parse_language_list_takes_decoded_json() -> None:
    lst = parse_language_list({"entries": [{"phrases": ["mule"], "suggestion": "exploited"}]})
    assert phrases("Mule", lst) == ["mule"]
