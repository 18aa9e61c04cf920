"""A partnership's configuration: the thresholds, windows and deadlines of rules.md, who
is relevant to whom, what each agency may be told, the language list and the calendar.

rules.md gives defaults; a partnership (three agencies and a council agreeing how they
share) may tighten a window, add a term calendar or a one-off bank holiday, or change
what a school is told, without a release. So all of it is data
(`broker/data/partnership.json`, `minimisation.json`, `language.json`), read once at
start and validated there: a typo must stop the broker with a `ConfigurationError`
naming the field, never make a rule silently stop firing.

The rules receive the configuration as a value (`PartnershipConfig`, frozen); nothing in
them reads files or the environment, so a replay and the live worker agree.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from broker.calendar.worktime import DEFAULT_HOLIDAY_YEARS, WorkCalendar, england_bank_holidays
from broker.config.minimisation import MinimisationTable
from broker.config.sources import Source, is_toml, layered, read_source, split_path
from broker.errors import ConfigurationError
from broker.language.review import LanguageList, load_language_list
from broker.models import Agency, Concern
from broker.models.problems import problems_from

M = TypeVar("M", bound=BaseModel)

DEFAULT_PARTNERSHIP: Final = "partnership.json"
DEFAULT_MINIMISATION: Final = "minimisation.json"

LAWFUL_BASES: Final = (
    "significant_harm",
    "known_to_social_care",
    "operation_encompass",
    "health_notification",
    "school_transition",
    "mash_decision",
)
"""The kinds of disclosure the broker makes, each needing its lawful basis in words."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CalendarSettings(_Section):
    """The working calendar: England's bank holidays plus any the partnership adds."""

    timezone: str = "Europe/London"
    workday_start: time = time(9)
    workday_end: time = time(17)
    extra_bank_holidays: tuple[date, ...] = ()
    school_terms: tuple[tuple[date, date], ...] | None = None
    non_school_days: tuple[date, ...] = ()

    def calendar(self) -> WorkCalendar:
        holidays = england_bank_holidays(*DEFAULT_HOLIDAY_YEARS) | frozenset(
            self.extra_bank_holidays
        )
        return WorkCalendar(
            timezone=self.timezone,
            bank_holidays=holidays,
            workday_start=self.workday_start,
            workday_end=self.workday_end,
            school_terms=self.school_terms,
            non_school_days=frozenset(self.non_school_days),
        )


class Thresholds(_Section):
    """Counts and windows (days, on occurred_at) of rules.md."""

    cumulative_concerns_every: int = Field(3, ge=1)
    cumulative_concerns_window_days: int = Field(365, ge=1)
    cumulative_neglect_every: int = Field(2, ge=1)
    cumulative_neglect_window_days: int = Field(365, ge=1)
    repeat_missing_every: int = Field(3, ge=1)
    repeat_missing_window_days: int = Field(90, ge=1)
    threshold_review_window_days: int = Field(90, ge=1)
    threshold_review_self_harm_events: int = Field(2, ge=1)
    threshold_review_exploitation_or_missing_events: int = Field(1, ge=1)
    threshold_review_quiet_days: int = Field(90, ge=0)
    relevant_agency_window_days: int = Field(365, ge=1)
    encompass_min_age: int = Field(4, ge=0)
    encompass_max_age: int = Field(17, ge=0)
    referral_template_version: str = "3"
    referral_concern_summary_min_words: int = Field(10, ge=0)
    referral_impact_on_child_min_words: int = Field(15, ge=0)
    referral_mental_health_impact_min_words: int = Field(15, ge=0)
    history_days: int = Field(400, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Thresholds:
        if self.encompass_min_age > self.encompass_max_age:
            raise ValueError("encompass_min_age: must not be above encompass_max_age")
        longest = max(
            self.cumulative_concerns_window_days,
            self.cumulative_neglect_window_days,
            self.repeat_missing_window_days,
            self.threshold_review_window_days,
            self.relevant_agency_window_days,
        )
        if self.history_days < longest:
            raise ValueError(
                f"history_days: must cover the longest window ({longest} days), "
                "or the rules would count from a history that has been pruned"
            )
        return self


class Deadlines(_Section):
    """Deadlines of rules.md, in the calendar's units."""

    decision_urgent_working_hours: int = Field(4, ge=1)
    decision_working_days: int = Field(1, ge=1)
    school_file_school_days: int = Field(5, ge=1)
    exploitation_screening_working_days: int = Field(5, ge=1)
    strategy_discussion_working_days: int = Field(1, ge=1)


class PartnershipConfig(BaseModel):
    """Everything the policy and the rules need to know about a partnership."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = "default"
    calendar: WorkCalendar = Field(default_factory=WorkCalendar)
    thresholds: Thresholds = Thresholds()
    deadlines: Deadlines = Deadlines()
    relevant_agencies: dict[Concern, tuple[Agency, ...]]
    """Concern of a past risk event -> the agencies a MASH info request must include."""
    strategy_meeting_core: tuple[Agency, ...] = (Agency.socialcare, Agency.police, Agency.health)
    lawful_bases: dict[str, str]
    minimisation: MinimisationTable
    language: LanguageList

    @model_validator(mode="after")
    def _every_basis(self) -> PartnershipConfig:
        missing = [k for k in LAWFUL_BASES if not self.lawful_bases.get(k, "").strip()]
        if missing:
            raise ValueError(f"lawful_bases: no wording for {', '.join(missing)}")
        unknown = sorted(set(self.lawful_bases) - set(LAWFUL_BASES))
        if unknown:
            raise ValueError(f"lawful_bases: unknown kind {', '.join(unknown)}")
        return self


class _PartnershipFile(_Section):
    """The JSON file as written; `minimisation` and `language_list` name other files."""

    version: int = 1
    name: str = "default"
    note: str | None = None
    calendar: CalendarSettings = CalendarSettings()
    thresholds: Thresholds = Thresholds()
    deadlines: Deadlines = Deadlines()
    relevant_agencies: dict[Concern, tuple[Agency, ...]]
    strategy_meeting_core: tuple[Agency, ...] = (Agency.socialcare, Agency.police, Agency.health)
    lawful_bases: dict[str, str]
    minimisation: str | None = None
    language_list: str | None = None


def load_config(path: Path | None = None) -> PartnershipConfig:
    """The partnership configuration in `path`, or the defaults shipped with the broker.

    A JSON file is a whole configuration; a TOML file holds changes to the shipped
    defaults (`broker/config/sources.py`). Every problem is a `ConfigurationError`
    naming the file, the line and the field, raised at start: a broker with half a
    configuration must not run.
    """
    return config_from(partnership_source(path))


def partnership_source(path: Path | None = None, base: Source | None = None) -> Source:
    """The partnership file as data: a JSON file whole, a TOML file's changes layered
    over `base` (by default the shipped defaults). The lines are the file's own, so a
    problem that the changes bring in is shown where they are."""
    source = read_source(path, DEFAULT_PARTNERSHIP)
    if not is_toml(path):
        return source
    under = base if base is not None else read_source(None, DEFAULT_PARTNERSHIP)
    return Source(layered(under.data, source.data), source.origin, source.lines)


def config_from(source: Source) -> PartnershipConfig:
    """The validated configuration of a partnership file read as data."""
    origin = source.origin
    settings = _validated(_PartnershipFile, source.data, source)
    if settings.version != 1:
        raise ConfigurationError(f"{origin}: {_at(source, 'version')}version: must be 1")
    table_path = _named(settings.minimisation)
    table_source = read_source(table_path, DEFAULT_MINIMISATION)
    table = _validated(MinimisationTable, table_source.data, table_source)
    language = load_language_list(_named(settings.language_list))
    try:
        calendar = settings.calendar.calendar()
    except ConfigurationError as exc:
        raise ConfigurationError(f"{origin}: {_at(source, 'calendar')}calendar: {exc}") from exc
    return _validated(
        PartnershipConfig,
        {
            "name": settings.name,
            "calendar": calendar,
            "thresholds": settings.thresholds,
            "deadlines": settings.deadlines,
            "relevant_agencies": settings.relevant_agencies,
            "strategy_meeting_core": settings.strategy_meeting_core,
            "lawful_bases": settings.lawful_bases,
            "minimisation": table,
            "language": language,
        },
        source,
    )


def _named(name: str | None) -> Path | None:
    """A file the partnership file names (already made relative to it when read)."""
    return Path(name) if name is not None else None


def _at(source: Source, field: str, message: str = "") -> str:
    """'line 7: ' for the line `field` is set on (or the key a check's message names
    first: 'encompass_min_age: must not be ...' about the thresholds), else ''."""
    named = message.split(":", 1)[0] if ":" in message else ""
    line = None
    if named.isidentifier():
        line = source.lines.get((*split_path(field), named))
    line = line or source.line_of(field)
    return f"line {line}: " if line else ""


def _validated(cls: type[M], raw: Any, source: Source) -> M:
    origin = source.origin
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        problems = problems_from(exc)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{origin}: {exc}") from None
    listed = "; ".join(
        f"{_at(source, p.field, p.message)}{p.field}: {_plain(p.message)}" for p in problems
    )
    raise ConfigurationError(f"{origin}: {len(problems)} problem(s): {listed}") from None


def _plain(message: str) -> str:
    if message == "Extra inputs are not permitted":
        return "is not a setting the broker knows (a misspelt name?)"
    return message
