"""The database tables (SQLModel). Alembic's migrations in `migrations/` are generated from these.

Each record table keeps the columns the API filters and sorts on, plus `doc`: the record's complete JSON
representation as UTF-8 bytes (a BLOB, so it reaches the response without decoding and re-encoding),
and `csv`: the same record as one CSV line (`app.tabular`), both built once by the loader
(`app.documents`). Requests filter on indexed columns and return the stored bytes, which is what keeps
them fast at a million facts. The link tables (names,
memberships, participations, evidence…) keep the facts normalised, for filters and for anyone who opens
the database with SQL.

Text columns that are sorted on use the "C" collation on PostgreSQL, so that both backends order
byte-wise and return pages in the same order.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, LargeBinary, MetaData, String, Text
from sqlmodel import Field, SQLModel

from app.search_kinds import SEARCH_KIND_CODES, SEARCH_KIND_MODULUS

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

KEY = String().with_variant(String(collation="C"), "postgresql")


def key_column(
    *, primary_key: bool = False, nullable: bool = False, references: str | None = None
) -> Column[str]:
    foreign = [ForeignKey(references)] if references else []
    return Column(KEY, *foreign, primary_key=primary_key, nullable=nullable)


class Dataset(SQLModel, table=True):
    """Facts about the load itself: `version` (a hash of the seeds), per-kind counts, the schema revision."""

    key: str = Field(sa_column=key_column(primary_key=True))
    value: str


class Article(SQLModel, table=True):
    id: str = Field(sa_column=key_column(primary_key=True))
    title: str = Field(sa_column=key_column())
    author: str | None = None
    outlet: str | None = None
    language: str
    published_start: str | None = Field(default=None, sa_column=key_column(nullable=True))
    published_end: str | None = None
    length: int
    sha256: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Person(SQLModel, table=True):
    __table_args__ = (
        Index(None, "sort_name", "id"),
        Index(None, "age", "id"),
        Index(None, "nationality", "id"),
    )

    id: str = Field(sa_column=key_column(primary_key=True))
    name: str
    sort_name: str = Field(sa_column=key_column())
    nationality: str | None = Field(default=None, sa_column=key_column(nullable=True))
    age: int | None = None
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Unit(SQLModel, table=True):
    __table_args__ = (Index(None, "sort_name", "id"), Index(None, "country", "id"), Index(None, "kind", "id"))

    id: str = Field(sa_column=key_column(primary_key=True))
    name: str
    sort_name: str = Field(sa_column=key_column())
    kind: str = Field(sa_column=key_column())
    country: str | None = Field(default=None, sa_column=key_column(nullable=True))
    side: str | None = None
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Place(SQLModel, table=True):
    __table_args__ = (Index(None, "sort_name", "id"), Index(None, "country", "id"), Index(None, "kind", "id"))

    id: str = Field(sa_column=key_column(primary_key=True))
    name: str
    sort_name: str = Field(sa_column=key_column())
    kind: str = Field(sa_column=key_column())
    country: str | None = Field(default=None, sa_column=key_column(nullable=True))
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Event(SQLModel, table=True):
    __table_args__ = (
        Index(None, "date_start", "id"),
        Index(None, "date_end"),
        Index(None, "kind", "id"),
        Index(None, "sort_title", "id"),
    )

    id: str = Field(sa_column=key_column(primary_key=True))
    title: str
    sort_title: str = Field(sa_column=key_column())
    kind: str = Field(sa_column=key_column())
    date_start: str | None = Field(default=None, sa_column=key_column(nullable=True))
    date_end: str | None = Field(default=None, sa_column=key_column(nullable=True))
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Quote(SQLModel, table=True):
    __table_args__ = (
        Index(None, "article_id", "start", "id"),
        Index(None, "speaker_id", "article_id", "start", "id"),
        Index(None, "anonymous", "article_id", "start", "id"),
    )

    id: str = Field(sa_column=key_column(primary_key=True))
    article_id: str = Field(sa_column=key_column(references="article.id"))
    start: int
    end: int
    speaker_id: str | None = Field(default=None, sa_column=key_column(nullable=True, references="person.id"))
    anonymous: bool
    text: str = Field(sa_column=Column(Text, nullable=False))
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Figure(SQLModel, table=True):
    __table_args__ = (Index(None, "article_id", "start", "id"), Index(None, "qualifier", "id"))

    id: str = Field(sa_column=key_column(primary_key=True))
    article_id: str = Field(sa_column=key_column(references="article.id"))
    start: int
    end: int
    qualifier: str = Field(sa_column=key_column())
    amount: float | None = None
    subject_kind: str | None = None
    subject_id: str | None = None
    doc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Name(SQLModel, table=True):
    """Every name of a person, unit or place (its own and its aliases), folded for matching."""

    __table_args__ = (Index(None, "kind", "folded"), Index(None, "kind", "entity_id"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=key_column())
    entity_id: str = Field(sa_column=key_column())
    name: str
    folded: str = Field(sa_column=key_column())
    source: str  # "name" (the record's own name), "article" or "external"
    lang: str | None = None


class Mention(SQLModel, table=True):
    """Which articles a record appears in (for the `article` filter)."""

    __table_args__ = (Index(None, "article_id", "kind", "entity_id"),)

    kind: str = Field(sa_column=key_column(primary_key=True))
    entity_id: str = Field(sa_column=key_column(primary_key=True))
    article_id: str = Field(sa_column=key_column(primary_key=True, references="article.id"))


class Membership(SQLModel, table=True):
    __table_args__ = (Index(None, "unit_id", "person_id"), Index(None, "person_id"))

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(sa_column=key_column(references="person.id"))
    unit_id: str = Field(sa_column=key_column(references="unit.id"))
    role: str
    certainty: str


class Relation(SQLModel, table=True):
    """Person-to-person links ("adviser to")."""

    __table_args__ = (Index(None, "person_id"), Index(None, "other_id"))

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(sa_column=key_column(references="person.id"))
    other_id: str = Field(sa_column=key_column(references="person.id"))
    role: str
    certainty: str


class Location(SQLModel, table=True):
    """A person, unit or event tied to a place, with the role of the place."""

    __table_args__ = (Index(None, "place_id", "kind", "entity_id"), Index(None, "kind", "entity_id"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=key_column())
    entity_id: str = Field(sa_column=key_column())
    place_id: str = Field(sa_column=key_column(references="place.id"))
    role: str | None = None
    certainty: str


class Participation(SQLModel, table=True):
    __table_args__ = (Index(None, "participant_id", "event_id"), Index(None, "event_id"))

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(sa_column=key_column(references="event.id"))
    participant_kind: str  # "person" or "unit"
    participant_id: str = Field(sa_column=key_column())
    role: str
    certainty: str


class Evidence(SQLModel, table=True):
    """A span of article text a fact rests on: `text == article.text[start:end]`, in code points."""

    __table_args__ = (Index(None, "kind", "entity_id"), Index(None, "article_id", "start"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=key_column())
    entity_id: str = Field(sa_column=key_column())
    field: str
    article_id: str = Field(sa_column=key_column(references="article.id"))
    start: int
    end: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    certainty: str
    note: str | None = None


SEARCH_KIND_CONDITION = (
    f"id % {SEARCH_KIND_MODULUS} = CASE kind "
    + " ".join(f"WHEN '{kind}' THEN {code}" for kind, code in SEARCH_KIND_CODES.items())
    + " END"
)


class SearchEntry(SQLModel, table=True):
    """One row per searchable record; the full-text index over it is backend-specific (`app.dialects`)."""

    __tablename__ = "search_entry"
    __table_args__ = (
        Index(None, "kind", "entity_id"),
        CheckConstraint(SEARCH_KIND_CONDITION, name="kind_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=key_column())
    entity_id: str = Field(sa_column=key_column())
    label: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))


RECORD_TABLES = {
    "article": Article,
    "person": Person,
    "unit": Unit,
    "place": Place,
    "event": Event,
    "quote": Quote,
    "figure": Figure,
}

# Parents before children, so foreign keys hold at every insert.
TABLE_ORDER = (
    "article",
    "person",
    "unit",
    "place",
    "event",
    "quote",
    "figure",
    "name",
    "mention",
    "membership",
    "relation",
    "location",
    "participation",
    "evidence",
    "search_entry",
    "dataset",
)
