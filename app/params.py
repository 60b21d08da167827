"""The query parameters of each list endpoint: typed, documented, with examples from the real data.

An unknown parameter is an error (`extra="forbid"`), so a typo never silently returns everything.
Where several values make sense, a comma-separated list means any of them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, StringConstraints

from app.pagination import ListParams, PageParams, sort_field
from app.search_kinds import SEARCH_KINDS

# Ids are lowercase, but a filter accepts any case (`Belarus` finds `belarus`).
IDS = r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:,[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)*$"


def _iso_date(value: Any) -> Any:
    """Only `YYYY-MM-DD` (pydantic would also read `0` as a Unix time)."""
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be an ISO date, like 2015-03-01")
        return dt.date.fromisoformat(value)
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


IdList = (
    Annotated[
        str,
        StringConstraints(pattern=IDS, max_length=2000),
        BeforeValidator(_lower),
    ]
    | None
)
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)] | None


def _ids(description: str, example: str) -> Any:
    return Field(None, description=f"{description} Comma-separated ids mean any of them.", examples=[example])


class PeopleParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("name", "age", "nationality", "id")
    default_sort: ClassVar[str] = "name"
    sort: str | None = sort_field(sort_fields, default_sort)

    name: Text = Field(
        None,
        description="Part of the name or of any alias, ignoring case and accents: `viacorka` finds Franak "
        "Viačorka, `tsikhanouskaya` finds Svetlana Tichanovskaya. Comma-separated: any of them.",
        examples=["kulazhanka"],
    )
    nationality: IdList = _ids("Nationality as a lowercase word.", "belarusian,russian")
    unit: IdList = _ids("Members of this unit (unit id).", "kastus-kalinouski-battalion")
    min_age: int | None = Field(None, ge=0, le=150, description="Age as stated, at least.", examples=[40])
    max_age: int | None = Field(None, ge=0, le=150, description="Age as stated, at most.", examples=[40])
    article: IdList = _ids("Mentioned in this article.", "belarusian-russian-volunteers-ukraine-2022")


class UnitParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("name", "kind", "country", "id")
    default_sort: ClassVar[str] = "name"
    sort: str | None = sort_field(sort_fields, default_sort)

    name: Text = Field(
        None,
        description="Part of the name or of any alias, ignoring case and accents: `kalinowski` finds the "
        "Kastus Kalinouski Battalion. Comma-separated: any of them.",
        examples=["kalinouski"],
    )
    country: IdList = _ids("Country the members come from (place id).", "belarus")
    side: IdList = _ids("Country the unit fights for (place id).", "ukraine")
    kind: IdList = _ids("Kind of unit or organisation.", "military-unit")
    place: IdList = _ids("Fights, fought or is based in this place (place id).", "kyiv")
    article: IdList = _ids("Mentioned in this article.", "belarusian-russian-volunteers-ukraine-2022")


class PlaceParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("name", "kind", "country", "id")
    default_sort: ClassVar[str] = "name"
    sort: str | None = sort_field(sort_fields, default_sort)

    name: Text = Field(
        None,
        description="Part of the name or of any alias, ignoring case and accents: `kiev` finds Kyiv, "
        "`odesa` finds Odessa. Comma-separated: any of them.",
        examples=["kiev"],
    )
    kind: IdList = _ids("`country`, `region` or `city`.", "city")
    country: IdList = _ids("Country it is in (place id).", "ukraine")
    article: IdList = _ids("Mentioned in this article.", "belarusian-russian-volunteers-ukraine-2022")


class QuoteParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("position", "speaker", "id")
    default_sort: ClassVar[str] = "position"
    sort: str | None = sort_field(sort_fields, default_sort)

    speaker: IdList = _ids("Said by this person (person id).", "pavel-kulazhanka")
    unit: IdList = _ids("Said by a member of this unit (unit id).", "kastus-kalinouski-battalion")
    q: Text = Field(
        None,
        description="Words in the quote's text; every word must occur, as a word or the start of one "
        "(`independ` finds independent). Case and accents are ignored.",
        examples=["independent belarus"],
    )
    anonymous: bool | None = Field(
        None, description="`true`: only quotes whose speaker the article does not name.", examples=[True]
    )
    article: IdList = _ids("From this article.", "belarusian-russian-volunteers-ukraine-2022")


class EventParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("date", "title", "kind", "id")
    default_sort: ClassVar[str] = "date"
    sort: str | None = sort_field(sort_fields, default_sort)

    year: Annotated[str, StringConstraints(pattern=r"^\d{4}(,\d{4})*$", max_length=200)] | None = Field(
        None,
        description="Events whose dates overlap this year; comma-separated: any of them. An event dated "
        "2014–2015 matches 2015.",
        examples=["2014"],
    )
    from_: IsoDate | None = Field(
        None,
        alias="from",
        description="Events whose dates overlap the range from this ISO date on (ongoing events included).",
        examples=["2015-03-01"],
    )
    to: IsoDate | None = Field(
        None, description="Events whose dates overlap the range up to this ISO date.", examples=["2022-04-30"]
    )
    place: IdList = _ids("Took place in this place (place id).", "kyiv")
    participant: IdList = _ids("Took part: a person or unit id.", "kastus-kalinouski-battalion")
    kind: IdList = _ids("Kind of event.", "battle")
    article: IdList = _ids("Reported in this article.", "belarusian-russian-volunteers-ukraine-2022")


class FigureParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("position", "amount", "qualifier", "id")
    default_sort: ClassVar[str] = "position"
    sort: str | None = sort_field(sort_fields, default_sort)

    qualifier: IdList = _ids("How the number is qualified.", "approximate")
    subject: IdList = _ids("About this record (person, unit or event id).", "kastus-kalinouski-battalion")
    article: IdList = _ids("From this article.", "belarusian-russian-volunteers-ukraine-2022")


class ArticleParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("published", "title", "id")
    default_sort: ClassVar[str] = "published"
    sort: str | None = sort_field(sort_fields, default_sort)


KIND_CHOICES = "|".join(SEARCH_KINDS)


class SearchParams(PageParams):
    """Search pages by offset and ranks by relevance: no cursor, no sort."""

    q: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Words to find. Every word must occur (as a word or the start of one); case and accents "
        "are ignored. Operators and punctuation are treated as plain text.",
        examples=["kalinouski battalion"],
    )
    kind: Annotated[str, StringConstraints(pattern=f"^({KIND_CHOICES})(,({KIND_CHOICES}))*$")] | None = Field(
        None,
        description=f"Only these kinds: {', '.join(SEARCH_KINDS)} (comma-separated).",
        examples=["quote,person"],
    )
