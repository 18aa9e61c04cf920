"""Language review: phrases that blame children for their own abuse (language.md).

Children may read their records later in life, and inspectors found victim-blaming
language nobody had challenged. The broker reviews an event's free text against a list
and tells the publishing agency which phrase it used and what to write instead. It never
blocks or delays the event, and a finding never quotes the text around the phrase: the
feedback goes back to the agency, but the child's narrative has no business in it.

The list is data (`broker/data/language.json`) so a partnership can change it without a
release; this module only loads, validates and matches it. Matching is compiled once per
list, because it runs on every event's narrative.

Matching rules (language.md): case-insensitive; whole words only ("recruited" does not
match "unrecruited"); `himself`, `herself`, `themselves` and `themself` stand for one
another; any run of spaces, line breaks or hyphens between two words matches any other
(so "attention seeking" and "attention-seeking" are one phrase, and a narrative wrapped
mid-phrase still matches); a straight and a curly apostrophe are the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Final

from broker.errors import ConfigurationError

FORMAT_VERSION: Final[int] = 1
DEFAULT_ORIGIN: Final[str] = "broker/data/language.json"  # the shipped list, for messages

_REFLEXIVES: Final[frozenset[str]] = frozenset({"himself", "herself", "themselves", "themself"})
_REFLEXIVE_PATTERN: Final[str] = "(?:" + "|".join(sorted(_REFLEXIVES)) + ")"
# Inside a character class: hyphen-minus (escaped), hyphen, non-breaking hyphen.
_HYPHENS: Final[str] = "\\-\u2010\u2011"
_SEPARATOR_RUN: Final[re.Pattern[str]] = re.compile(rf"[\s{_HYPHENS}]+")
_LOOSE_SEPARATOR: Final[str] = rf"[\s{_HYPHENS}]+"
_APOSTROPHES: Final[str] = "'\u2019"
_WORD_CHAR: Final[re.Pattern[str]] = re.compile(r"\w")
_TOP_KEYS: Final[frozenset[str]] = frozenset({"version", "source", "note", "entries"})
_ENTRY_KEYS: Final[frozenset[str]] = frozenset({"phrases", "suggestion", "note", "source"})


@dataclass(frozen=True)
class LanguageEntry:
    """Phrases that get the same advice, and the wording to use instead."""

    phrases: tuple[str, ...]
    suggestion: str
    note: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class LanguageFinding:
    """A phrase from the list found in a text: the phrase as the list spells it and the
    suggested wording. Deliberately without the matched text or its position, so that
    feedback built from it cannot carry the child's narrative."""

    phrase: str
    suggestion: str
    note: str | None = None


@dataclass(frozen=True)
class _Matcher:
    """One phrase group: variants of an entry that match the same text."""

    entry: LanguageEntry
    pattern: re.Pattern[str]
    # (variant, its literal-separator pattern): to name the variant the writer used.
    variants: tuple[tuple[str, re.Pattern[str]], ...]

    def first(self, lowered: str) -> re.Match[str] | None:
        """The first whole-word match in lower-cased text.

        The left word boundary is checked here rather than as a lookbehind in the
        pattern: a pattern that starts with a literal lets `re` skip ahead to candidate
        positions, which makes the review many times faster on a long narrative.
        """
        pos = 0
        while (match := self.pattern.search(lowered, pos)) is not None:
            start = match.start()
            if start == 0 or not _WORD_CHAR.match(lowered, start - 1):
                return match
            pos = start + 1
        return None

    def name(self, matched: str) -> str:
        for variant, literal in self.variants:
            if literal.fullmatch(matched):
                return variant
        return self.variants[0][0]


@dataclass(frozen=True)
class LanguageList:
    """A validated list with its patterns compiled; build once, review many texts."""

    entries: tuple[LanguageEntry, ...]
    source: str | None = None
    _matchers: tuple[_Matcher, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))
        problems = _phrase_problems(self.entries)
        if problems:
            raise ConfigurationError(_summary("language list", problems))
        object.__setattr__(self, "_matchers", _compile(self.entries))


def review(text: str | None, lst: LanguageList) -> list[LanguageFinding]:
    """The list's phrases found in `text`, each once, in the order they first appear.

    Two phrases of one entry are two findings ("putting herself at risk" and "placing
    herself at risk" are each named); one phrase used three times is one finding.
    """
    if not text:
        return []
    lowered = text.lower()
    found: list[tuple[int, int, LanguageFinding]] = []
    for order, matcher in enumerate(lst._matchers):
        match = matcher.first(lowered)
        if match is None:
            continue
        entry = matcher.entry
        finding = LanguageFinding(matcher.name(match.group(0)), entry.suggestion, entry.note)
        found.append((match.start(), order, finding))
    found.sort(key=lambda item: (item[0], item[1]))
    return [finding for _, _, finding in found]


def review_fields(
    fields: Mapping[str, str | None], lst: LanguageList
) -> list[tuple[str, LanguageFinding]]:
    """Findings per free-text field (`narrative`, `concern_summary`, `impact_on_child`),
    in the mapping's order, so feedback can say where each phrase was used. Missing or
    empty fields have nothing to review."""
    return [(name, finding) for name, text in fields.items() for finding in review(text, lst)]


def load_language_list(path: Path | None = None) -> LanguageList:
    """Read and validate a list: `path`, or the one shipped with the broker.

    Every problem in the file is reported at once, each with the entry index and the
    field, so a partnership editing the file can fix it in one go. Any problem stops
    the broker from starting (ConfigurationError): reviewing against half a list would
    silently miss phrases.
    """
    if path is None:
        origin = DEFAULT_ORIGIN
        resource = resources.files("broker").joinpath("data", "language.json")
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"language list {origin}: cannot read it ({exc})") from exc
    else:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"language list {origin}: cannot read it ({exc})") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"language list {origin}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from exc
    return parse_language_list(raw, origin)


def parse_language_list(raw: object, origin: str = "language list") -> LanguageList:
    """Validate already-decoded JSON (for a list held elsewhere than a file)."""
    problems: list[str] = []
    entries: list[LanguageEntry] = []
    source: str | None = None
    if not isinstance(raw, dict):
        raise ConfigurationError(_summary(origin, ["the top level must be a JSON object"]))
    problems += [f"{key}: unknown key" for key in sorted(set(raw) - _TOP_KEYS)]
    if "version" in raw and (type(raw["version"]) is not int or raw["version"] != FORMAT_VERSION):
        problems.append(f"version: must be {FORMAT_VERSION}")
    for key in ("source", "note"):
        if key in raw and not _is_text(raw[key]):
            problems.append(f"{key}: must be a non-empty string")
    if _is_text(raw.get("source")):
        source = raw["source"]
    raw_entries = raw.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        problems.append("entries: must be a non-empty list of entries")
        raw_entries = []
    for index, item in enumerate(raw_entries):
        entry, entry_problems = _parse_entry(item, f"entries[{index}]")
        problems += entry_problems
        if entry is not None:
            entries.append(entry)
    if not problems:
        problems = _phrase_problems(tuple(entries))
    if problems:
        raise ConfigurationError(_summary(origin, problems))
    return LanguageList(tuple(entries), source)


def _parse_entry(item: object, where: str) -> tuple[LanguageEntry | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{where}: must be an object with phrases and suggestion"]
    problems = [f"{where}.{key}: unknown key" for key in sorted(set(item) - _ENTRY_KEYS)]
    phrases = item.get("phrases")
    if not isinstance(phrases, list) or not phrases:
        problems.append(f"{where}.phrases: must be a non-empty list of phrases")
        phrases = []
    for number, phrase in enumerate(phrases):
        if not _is_text(phrase):
            problems.append(f"{where}.phrases[{number}]: must be a non-empty string")
    if not _is_text(item.get("suggestion")):
        problems.append(f"{where}.suggestion: must be a non-empty string")
    for key in ("note", "source"):
        if key in item and not _is_text(item[key]):
            problems.append(f"{where}.{key}: must be a non-empty string")
    if problems:
        return None, problems
    entry = LanguageEntry(
        phrases=tuple(p.strip() for p in phrases),
        suggestion=item["suggestion"].strip(),
        note=item.get("note"),
        source=item.get("source"),
    )
    return entry, []


def _phrase_problems(entries: Sequence[LanguageEntry]) -> list[str]:
    """Phrases that cannot match, or that two entries both claim (which advice wins?)."""
    problems: list[str] = []
    owner: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not entry.phrases:
            problems.append(f"entries[{index}].phrases: must not be empty")
        if not entry.suggestion.strip():
            problems.append(f"entries[{index}].suggestion: must be a non-empty string")
        for number, phrase in enumerate(entry.phrases):
            where = f"entries[{index}].phrases[{number}]"
            if not re.search(r"\w", phrase):
                problems.append(f"{where}: must contain a word")
                continue
            key = _key(phrase)
            first = owner.setdefault(key, index)
            if first != index:
                problems.append(f"{where}: {phrase!r} is already listed in entries[{first}]")
    return problems


def _key(phrase: str) -> str:
    """What a phrase matches, as a string: equal keys match exactly the same texts."""
    words = _SEPARATOR_RUN.split(phrase.strip().casefold())
    words = ["himself" if w in _REFLEXIVES else w.replace("\u2019", "'") for w in words]
    return " ".join(words)


def _compile(entries: Sequence[LanguageEntry]) -> tuple[_Matcher, ...]:
    matchers: list[_Matcher] = []
    for entry in entries:
        groups: dict[str, list[str]] = {}
        for phrase in entry.phrases:
            groups.setdefault(_key(phrase), []).append(phrase)
        for variants in groups.values():
            loose = _pattern(variants[0], literal_separators=False)
            literal = tuple((v, _pattern(v, literal_separators=True)) for v in variants)
            matchers.append(_Matcher(entry, loose, literal))
    return tuple(matchers)


def _pattern(phrase: str, *, literal_separators: bool) -> re.Pattern[str]:
    """A pattern for lower-cased text: reflexive pronouns and apostrophes are
    interchangeable, and the phrase must end a word (`_Matcher.first` checks that it
    starts one). With `literal_separators` a hyphen must be a hyphen and a space any
    whitespace: used only to tell which listed spelling the writer used.
    """
    words = re.split(rf"([\s{_HYPHENS}]+)", phrase.strip().lower())
    parts: list[str] = []
    for i, word in enumerate(words):
        if i % 2:  # a run of separators
            if not literal_separators:
                parts.append(_LOOSE_SEPARATOR)
            elif word.isspace():
                parts.append(r"\s+")
            else:
                parts.append(rf"\s*[{_HYPHENS}]+\s*")
        elif word in _REFLEXIVES:
            parts.append(_REFLEXIVE_PATTERN)
        else:
            parts.append(
                "".join(f"[{_APOSTROPHES}]" if c in _APOSTROPHES else re.escape(c) for c in word)
            )
    return re.compile("".join(parts) + r"(?!\w)")


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _summary(origin: str, problems: Sequence[str]) -> str:
    return f"{origin}: {len(problems)} problem(s): " + "; ".join(problems)
