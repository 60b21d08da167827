"""The facts file a data journalist edits: one per article folder under `seeds/`.

These Pydantic models are the single definition of that file. They validate it on load, and
`python -m app schema` writes the JSON Schema editors validate against (`seeds/facts.schema.json`).
They describe what the file *says*; `app.models` describes what the database *stores*.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.identifiers import ID_PATTERN

Id = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN, max_length=80),
    Field(description="A stable, human-readable id: lowercase words joined by hyphens."),
]
Certainty = Literal["stated", "inferred"]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]*$", max_length=40)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]

UnitKind = Literal[
    "military-unit",
    "armed-forces",
    "irregular-forces",
    "activist-group",
    "political-group",
    "group",
    "government",
    "state",
    "news-outlet",
    "intelligence",
]
PlaceKind = Literal["country", "region", "city"]
EventKind = Literal[
    "war",
    "armed-conflict",
    "battle",
    "combat",
    "uprising",
    "sabotage",
    "defection",
    "press-conference",
    "interview",
    "annexation",
    "visit",
    "espionage",
]
Precision = Literal["day", "month", "year", "range", "unknown"]
Qualifier = Literal[
    "exact",
    "approximate",
    "more-than",
    "fewer-than",
    "several",
    "hundreds",
    "many-thousands",
    "vast-majority",
]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_REDUCED_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _reduced_iso_date(value: Any) -> Any:
    """Accept what YAML gives for `2014`, `'2022-04'` and `2022-04-08` and keep the ISO 8601 text."""
    if isinstance(value, dt.datetime):
        raise ValueError("a date, not a date and time, is expected")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:04d}"
    if isinstance(value, str) and _REDUCED_DATE.match(value):
        parts = [int(p) for p in value.split("-")]
        try:
            dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date") from exc
    return value


ReducedDate = Annotated[
    str,
    BeforeValidator(_reduced_iso_date),
    StringConstraints(pattern=_REDUCED_DATE.pattern),
    Field(description="ISO 8601, as precise as known: `2014`, `2022-04` or `2022-04-05`."),
]


# An empty list by default, made new for each record. Written `= []`, Pydantic would deep-copy the default
# each time a field is left out (~34,000 times per 1,000 articles); the schema still says `"default": []`.
_EMPTY: Any = Field(default_factory=list, json_schema_extra={"default": []})


class Strict(BaseModel):
    """Every model of the file rejects unknown fields, so a typo in a key is an error, not lost data."""

    model_config = ConfigDict(extra="forbid")


class Snippet(Strict):
    """Words copied exactly from the article (a W3C TextQuoteSelector); the loader stores their offsets."""

    # A prefix such as "now lives in " ends in a space that matters.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    text: str = Field(min_length=1, description="The exact words, as in the article text.")
    occurrence: int | None = Field(
        None, ge=1, description="Which occurrence (1 = first) when the words occur more than once."
    )
    prefix: str | None = Field(None, description="Text right before the snippet, to pick one occurrence.")
    suffix: str | None = Field(None, description="Text right after the snippet, to pick one occurrence.")
    certainty: Certainty = "stated"
    note: str | None = Field(None, description="Why the snippet supports the fact, where that needs saying.")

    @model_validator(mode="after")
    def _inferred_needs_note(self) -> Snippet:
        if self.certainty == "inferred" and not self.note:
            raise ValueError("an inferred snippet needs a `note` that says why")
        return self


def _as_snippet_list(value: Any) -> Any:
    """`evidence: some words` is shorthand for a one-item list; a plain string is a snippet's text."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [{"text": item} if isinstance(item, str) else item for item in items]


Evidence = Annotated[
    list[Snippet],
    BeforeValidator(_as_snippet_list),
    Field(
        description="Snippets of the article this rests on: a string, a snippet object, or a list of them."
    ),
]


class Sourced(Strict):
    """A fact with its provenance: stated facts need evidence, inferred ones a note that says why."""

    certainty: Certainty = "stated"
    note: str | None = Field(None, description="For inferred facts: the reasoning. Otherwise any remark.")
    evidence: Evidence = _EMPTY

    @model_validator(mode="after")
    def _provenance(self) -> Sourced:
        if self.certainty == "inferred" and not self.note:
            raise ValueError("an inferred fact needs a `note` that says why")
        if self.certainty == "stated" and not self.evidence:
            raise ValueError("a stated fact needs `evidence` from the article")
        return self


T = TypeVar("T")


class Claim(Sourced, Generic[T]):
    value: T


class Alias(Strict):
    """Another name for the same person, unit or place (FollowTheMoney's `alias`)."""

    name: str = Field(min_length=1)
    lang: LanguageCode | None = Field(
        None, description="ISO 639-1 code of the name's language, if not English."
    )
    source: Literal["article", "external"] = Field(
        description="`article`: the article uses this name; `external`: a common spelling not in the article."
    )
    note: str | None = None
    evidence: Evidence = _EMPTY

    @model_validator(mode="after")
    def _source_matches_evidence(self) -> Alias:
        if self.source == "article" and not self.evidence:
            raise ValueError("an alias from the article needs `evidence`")
        if self.source == "external" and self.evidence:
            raise ValueError("an external alias has no evidence in the article; use source: article")
        return self


class Membership(Sourced):
    """A person in a unit or organisation (Popolo membership)."""

    unit: Id
    role: str = Field(min_length=1, examples=["member", "leader", "former sergeant"])
    since: str | None = Field(None, description="The words that date the membership, if any.")


class Relation(Sourced):
    """A person-to-person link, such as adviser to someone (Popolo: not a membership)."""

    person: Id
    role: str = Field(min_length=1, examples=["adviser", "closest ally"])


class PlaceLink(Sourced):
    place: Id
    role: str | None = Field(None, examples=["fought in", "lives in"])


class Participant(Sourced):
    """A person or a unit taking part in an event, with its role (ACLED's actors)."""

    person: Id | None = None
    unit: Id | None = None
    role: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_actor(self) -> Participant:
        if (self.person is None) == (self.unit is None):
            raise ValueError("a participant names exactly one of `person` or `unit`")
        return self


class NamedAfter(Sourced):
    text: str = Field(min_length=1, description="What the unit is named after, in the article's words.")
    person: Id | None = Field(
        None, description="The person it is named after, when there is a record for them."
    )


class DateSpec(Strict):
    """When something happened, as precisely as the text allows, keeping the text's own words.

    `start` and `end` are ISO 8601 reduced dates; the loader widens them to whole days (`2014` becomes
    2014-01-01 to 2014-12-31). `weekday` resolves a relative day ("on Tuesday") to the last such day
    before the article's reference date. `ongoing` leaves the end open.
    """

    text: str | None = Field(None, description="The article's words for the date, if it has any.")
    start: ReducedDate | None = None
    end: ReducedDate | None = None
    weekday: Weekday | None = None
    ongoing: bool = False
    precision: Precision | None = Field(
        None, description="Derived from `start`/`end` when omitted; `range`: somewhere between them."
    )
    certainty: Certainty = "stated"
    note: str | None = None
    evidence: Evidence = _EMPTY

    @model_validator(mode="after")
    def _consistent(self) -> DateSpec:
        if self.certainty == "inferred" and not self.note:
            raise ValueError("an inferred date needs a `note` that says why")
        if self.certainty == "stated" and not self.evidence:
            raise ValueError("a stated date needs `evidence` from the article")
        if self.weekday and (self.start or self.end):
            raise ValueError("give either `weekday` or `start`/`end`, not both")
        if self.weekday and self.certainty != "inferred":
            raise ValueError("a date resolved from a weekday is inferred: set certainty: inferred")
        if self.ongoing and self.end:
            raise ValueError("an ongoing event has no `end`")
        if self.end and not self.start:
            raise ValueError("an `end` needs a `start`")
        if self.start and self.end and self.end < self.start:
            raise ValueError("`end` is before `start`")
        return self


class ReferenceDate(Strict):
    date: ReducedDate
    note: str = Field(min_length=1)


class ArticleMeta(Strict):
    """What is known about the article itself; derived values are inferred, with the reason."""

    text_file: str = Field("article.txt", description="The source text, byte for byte as received.")
    received_as: str | None = Field(None, description="The file name the text arrived under.")
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of the text file, so an accidental edit of the source is caught."
    )
    url: str | None = None
    title: Claim[str]
    author: Claim[str] | None = None
    outlet: Claim[str] | None = None
    language: Claim[LanguageCode]
    original_language: Claim[LanguageCode] | None = None
    published: DateSpec
    reference_date: ReferenceDate | None = Field(
        None, description="The day relative dates in the text are resolved against."
    )


class Record(Strict):
    """Fields every person, unit, place and event has."""

    id: Id
    description: str | None = Field(None, description="One line: who or what this is in the story.")
    certainty: Certainty = Field("stated", description="`inferred` when the record's very existence is.")
    note: str | None = None
    evidence: Evidence = Field(min_length=1)

    @model_validator(mode="after")
    def _inferred_needs_note(self) -> Record:
        if self.certainty == "inferred" and not self.note:
            raise ValueError("an inferred record needs a `note` that says why")
        return self


class Person(Record):
    name: str = Field(min_length=1)
    aliases: list[Alias] = _EMPTY
    age: Claim[Annotated[int, Field(ge=0, le=130)]] | None = Field(
        None, description="Age as the article states it."
    )
    nationality: Claim[Slug] | None = Field(None, examples=["belarusian"])
    memberships: list[Membership] = _EMPTY
    relations: list[Relation] = _EMPTY
    places: list[PlaceLink] = _EMPTY


class Unit(Record):
    name: str = Field(min_length=1)
    kind: UnitKind
    aliases: list[Alias] = _EMPTY
    country: Claim[Id] | None = Field(None, description="Place id of the country its members come from.")
    side: Claim[Id] | None = Field(None, description="Place id of the country it fights for.")
    named_after: NamedAfter | None = None
    places: list[PlaceLink] = _EMPTY


class Place(Record):
    name: str = Field(min_length=1)
    kind: PlaceKind
    country: Id | None = Field(None, description="Place id of the country it is in (itself, for a country).")
    aliases: list[Alias] = _EMPTY


class Event(Record):
    title: str = Field(min_length=1)
    kind: EventKind
    date: DateSpec | None = Field(None, description="Omitted when the text gives no way to date it.")
    places: list[PlaceLink] = _EMPTY
    participants: list[Participant] = _EMPTY


class Speaker(Sourced):
    person: Id | None = None
    description: str | None = Field(
        None, description="Who speaks, in words, when the article does not name them."
    )
    anonymous: bool = Field(False, description="The article does not name the speaker.")

    @model_validator(mode="after")
    def _someone(self) -> Speaker:
        if self.person is None and not self.description:
            raise ValueError("a speaker needs a `person` or a `description`")
        if self.anonymous and not self.description:
            raise ValueError("an anonymous speaker needs a `description`")
        return self


class Addressee(Sourced):
    text: str = Field(min_length=1)
    people: list[Id] = _EMPTY
    units: list[Id] = _EMPTY


class Medium(Sourced):
    text: str = Field(min_length=1, examples=["an interview with the US Wall Street Journal"])
    outlet: Id | None = Field(None, description="Unit id of the outlet.")


class Occasion(Sourced):
    event: Id


class About(Sourced):
    text: str = Field(min_length=1)
    unit: Id | None = None
    person: Id | None = None


class Quote(Strict):
    """A direct quote. Its own words are its first piece of evidence."""

    id: Id
    text: str = Field(min_length=1, description="Verbatim, without the quotation marks.")
    occurrence: int | None = Field(None, ge=1)
    prefix: str | None = None
    suffix: str | None = None
    speaker: Speaker
    addressee: Addressee | None = None
    medium: Medium | None = None
    occasion: Occasion | None = None
    about: About | None = None
    evidence: Evidence = _EMPTY


class FigureSubject(Strict):
    person: Id | None = None
    unit: Id | None = None
    event: Id | None = None
    property: Literal["size"] | None = Field(None, description="`size`: the figure is the unit's size.")

    @model_validator(mode="after")
    def _one_subject(self) -> FigureSubject:
        if sum(x is not None for x in (self.person, self.unit, self.event)) != 1:
            raise ValueError("a figure's subject names exactly one of `person`, `unit` or `event`")
        if self.property == "size" and self.unit is None:
            raise ValueError("only a unit has a `size`")
        return self


class Figure(Sourced):
    """A number the article states, with its words kept: "around 200" is never a bare 200."""

    id: Id
    text: str = Field(min_length=1, description="The figure's own words, as in the article.")
    occurrence: int | None = Field(None, ge=1)
    prefix: str | None = None
    suffix: str | None = None
    amount: float | None = Field(None, description="The number, when the words give one.")
    lower: float | None = Field(None, description='Lower bound ("more than 1000" gives 1000).')
    upper: float | None = Field(None, description='Upper bound ("fewer than 50" gives 50).')
    qualifier: Qualifier
    unit: str | None = Field(None, description="What is counted, in one word: members, weeks, units.")
    counts: str = Field(min_length=1, description="What the figure counts, in a phrase.")
    subject: FigureSubject | None = None

    @model_validator(mode="after")
    def _qualifier_fits(self) -> Figure:
        if self.qualifier in ("exact", "approximate") and self.amount is None:
            raise ValueError(f"qualifier {self.qualifier!r} needs an `amount`")
        if self.qualifier == "more-than" and self.lower is None:
            raise ValueError("qualifier 'more-than' needs a `lower` bound")
        if self.qualifier == "fewer-than" and self.upper is None:
            raise ValueError("qualifier 'fewer-than' needs an `upper` bound")
        return self


class FactsFile(Strict):
    """One article's facts file: `seeds/<article-id>/facts.yaml` (or `facts.json`)."""

    model_config = ConfigDict(title="newsfacts facts file")

    article: ArticleMeta
    people: list[Person] = _EMPTY
    units: list[Unit] = _EMPTY
    places: list[Place] = _EMPTY
    events: list[Event] = _EMPTY
    quotes: list[Quote] = _EMPTY
    figures: list[Figure] = _EMPTY


SECTIONS = ("people", "units", "places", "events", "quotes", "figures")
