"""Response models: the API's contract, as published in OpenAPI.

The documents themselves are built by `app.documents` at load time and served as stored; these models
describe them (the test suite validates every stored document against them). Field names are stable.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Certainty = Literal["stated", "inferred"]
ARTICLE = "belarusian-russian-volunteers-ukraine-2022"


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceItem(Out):
    """A span of the article that a fact rests on; `text` is exactly `article_text[start:end]`."""

    article: str = Field(examples=[ARTICLE])
    start: int = Field(description="Offset of the first character, in Unicode code points (inclusive).")
    end: int = Field(description="Offset after the last character, in code points (exclusive).")
    text: str = Field(examples=["Pavel Kulazhanka (36)"])
    certainty: Certainty
    field: str = Field(description="Which fact the span supports: `mention`, `age`, `units`, `quote`…")
    related: str | None = Field(description="The id of the related record the fact links to, if any.")
    note: str | None = Field(description="Why the span supports the fact, where that needs saying.")


class Inferred(Out):
    """A field whose value the text implies but does not state, and why it was inferred."""

    field: str
    related: str | None
    note: str | None


class Alias(Out):
    name: str = Field(examples=["Kiev"])
    lang: str | None = Field(description="ISO 639-1 language of the name, when not English.")
    source: Literal["article", "external"] = Field(
        description="`article`: used in the article; `external`: a common spelling the article does not use."
    )
    note: str | None


class Ref(Out):
    id: str
    name: str


class RoleRef(Out):
    id: str
    name: str
    role: str | None
    certainty: Certainty
    note: str | None


class MembershipRef(RoleRef):
    since: str | None = Field(description="The words that date the membership, if any.")


class Participant(RoleRef):
    kind: Literal["person", "unit"]


class KindRef(Out):
    id: str
    name: str
    kind: Literal["person", "unit"]


class Provenance(Out):
    certainty: Certainty = Field(description="`inferred` when the record's very existence is inferred.")
    note: str | None
    inferred: list[Inferred] = Field(description="Fields the text implies rather than states.")
    articles: list[str] = Field(description="Articles the record appears in.")
    evidence: list[EvidenceItem]


class Age(Out):
    article: str
    age: int
    certainty: Certainty


class Person(Provenance):
    id: str = Field(examples=["pavel-kulazhanka"])
    name: str = Field(examples=["Pavel Kulazhanka"])
    aliases: list[Alias]
    age: int | None = Field(
        description="Age as stated, in the latest article that states one.", examples=[36]
    )
    ages: list[Age] = Field(description="Every stated age, by article.")
    nationality: str | None = Field(examples=["belarusian"])
    description: str | None
    units: list[MembershipRef] = Field(
        description="Units and organisations the person belongs to, with role."
    )
    relations: list[RoleRef] = Field(description="People this person is linked to (`adviser` to…).")
    places: list[RoleRef]


class Size(Out):
    amount: float | None = Field(examples=[200])
    lower: float | None
    upper: float | None
    qualifier: str = Field(examples=["approximate"])
    text: str = Field(examples=["around 200"])
    figure: str = Field(description="The figure record the size comes from.")


class NamedAfter(Out):
    text: str
    id: str | None
    name: str | None


class Unit(Provenance):
    id: str = Field(examples=["kastus-kalinouski-battalion"])
    name: str = Field(examples=["Kastus Kalinouski Battalion"])
    aliases: list[Alias]
    kind: str = Field(examples=["military-unit"])
    description: str | None
    country: str | None = Field(
        description="Place id of the country its members come from.", examples=["belarus"]
    )
    side: str | None = Field(description="Place id of the country it fights for.", examples=["ukraine"])
    size: Size | None
    named_after: NamedAfter | None
    places: list[RoleRef]
    members: list[MembershipRef]


class Place(Provenance):
    id: str = Field(examples=["kyiv"])
    name: str = Field(examples=["Kyiv"])
    aliases: list[Alias]
    kind: Literal["country", "region", "city"]
    country: str | None = Field(description="Place id of the country it is in.", examples=["ukraine"])
    description: str | None


class Date(Out):
    text: str | None = Field(description="The article's own words for the date.", examples=["2014-2015"])
    start: str | None = Field(description="First possible day (ISO 8601).", examples=["2014-01-01"])
    end: str | None = Field(
        description="Last possible day; null while ongoing or unknown.", examples=["2015-12-31"]
    )
    precision: Literal["day", "month", "year", "range", "unknown"]
    certainty: Certainty | None
    note: str | None


class Event(Provenance):
    id: str = Field(examples=["defence-of-kyiv"])
    title: str
    kind: str = Field(examples=["battle"])
    description: str | None
    date: Date
    places: list[RoleRef]
    participants: list[Participant]


class About(Out):
    text: str
    kind: Literal["person", "unit"] | None
    id: str | None
    name: str | None


class Quote(Provenance):
    id: str = Field(examples=["kulazhanka-independent-ukraine"])
    text: str = Field(examples=["Without an independent Ukraine, there will be no independent Belarus"])
    speaker: Ref | None = Field(description="The speaker's person record (null if there is none).")
    speaker_description: str | None = Field(description="Who speaks, when the article does not name them.")
    anonymous: bool = Field(description="The article does not name the speaker.")
    addressee: str | None = Field(description="Whom the words are addressed to, in the article's words.")
    addressees: list[KindRef]
    medium: str | None = Field(examples=["an interview with the US Wall Street Journal"])
    outlet: Ref | None
    event: Ref | None = Field(description="The event the words were said at, if known.")
    about: About | None
    article: str
    start: int = Field(description="Offset of the quote's first character in the article (code points).")
    end: int


class FigureSubject(Out):
    kind: Literal["person", "unit", "event"]
    id: str
    name: str
    property: str | None


class Figure(Provenance):
    id: str = Field(examples=["battalion-size"])
    text: str = Field(description="The figure's own words.", examples=["around 200"])
    amount: float | None = Field(examples=[200])
    lower: float | None
    upper: float | None
    qualifier: str = Field(examples=["approximate"])
    unit: str | None = Field(description="What is counted.", examples=["members"])
    counts: str
    subject: FigureSubject | None
    article: str
    start: int
    end: int


class Published(Date):
    pass


class ReferenceDate(Out):
    date: str
    note: str


class Article(Out):
    id: str = Field(examples=[ARTICLE])
    title: str
    author: str | None = Field(examples=["Heiko Roloff"])
    outlet: str | None = Field(examples=["BILD"])
    published: Published
    language: str = Field(examples=["en"])
    original_language: str | None
    length: int = Field(description="Length of the text in Unicode code points.", examples=[4033])
    sha256: str
    received_as: str | None
    url: str | None
    reference_date: ReferenceDate | None
    inferred: list[Inferred]
    counts: dict[str, int] = Field(description="Records of each kind that appear in this article.")
    evidence: list[EvidenceItem]


# The model of each kind's records: its JSON shape, and the columns of its CSV line.
RECORD_MODELS: dict[str, type[Out]] = {
    "person": Person,
    "unit": Unit,
    "place": Place,
    "event": Event,
    "quote": Quote,
    "figure": Figure,
    "article": Article,
}

T = TypeVar("T")


class Envelope(Out, Generic[T]):
    items: list[T]
    total: int = Field(description="Items matching the filters, on all pages.")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page.")


class SearchHit(Out):
    kind: Literal["person", "unit", "place", "event", "quote", "figure", "article"]
    id: str
    label: str
    score: float = Field(description="Relevance; higher is better. Comparable within one response.")
    snippet: str = Field(description="Matching text, matched words wrapped in <mark>…</mark>.")
    url: str = Field(description="Path of the record.")


class SpeakerCount(Out):
    id: str | None
    name: str | None
    count: int


class Stats(Out):
    dataset_version: str
    counts: dict[str, int] = Field(description="Records per kind.")
    facts: int = Field(description="Records, links and evidence spans in all.")
    people_by_nationality: dict[str, int] = Field(description="The 100 largest groups, largest first.")
    quotes_by_speaker: list[SpeakerCount] = Field(description="The 100 most quoted, most quoted first.")
    events_by_year: dict[str, int] = Field(
        description="Events by the year they start (`unknown` if undated), for the 100 busiest years, in order."
    )
    units_by_country: dict[str, int] = Field(description="The 100 largest groups, largest first.")


class DatabaseHealth(Out):
    backend: Literal["sqlite", "postgresql"]
    ok: bool
    error: str | None


class DatasetHealth(Out):
    version: str
    revision: str
    counts: dict[str, int]
    facts: int
    loaded_at: float | None = Field(
        description="When the SQLite file was built (Unix time); null on PostgreSQL."
    )


class Health(Out):
    status: Literal["ok", "unavailable"]
    version: str = Field(description="The API's own version.")
    database: DatabaseHealth
    dataset: DatasetHealth | None


class ValidationEntry(Out):
    parameter: str
    in_: str = Field(alias="in")
    message: str
    value: Any


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no person with id `pavel-kulazanka`; list them at /people"])
    code: str = Field(description="Stable machine-readable name of the problem.", examples=["not-found"])
    instance: str | None = Field(None, examples=["/people/pavel-kulazanka"])
    request_id: str | None = None
    errors: list[ValidationEntry] | None = Field(
        None, description="For 422: one entry per offending parameter."
    )


class PersonList(Envelope[Person]):
    pass


class UnitList(Envelope[Unit]):
    pass


class PlaceList(Envelope[Place]):
    pass


class EventList(Envelope[Event]):
    pass


class QuoteList(Envelope[Quote]):
    pass


class FigureList(Envelope[Figure]):
    pass


class ArticleList(Envelope[Article]):
    pass


class SearchHitList(Envelope[SearchHit]):
    pass
