"""Every read query of the API, and the one place that turns filters into SQL.

Lists filter on indexed columns and return each record's stored JSON (`doc`), or its stored CSV line
(`csv`) for a CSV response; nothing is assembled per request. SQL text is built from fixed fragments;
every value a client sends travels as a parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from app import headlines, snippets
from app.database import DatasetChanged, Snapshot
from app.dialects import POSTGRES_HEADLINES_SQL, Dialect, like_pattern, search_terms
from app.errors import InvalidParameter, NotFound
from app.folding import fold
from app.formats import ITEM_SEPARATORS
from app.pagination import Cursor, ListParams, Page, split_values
from app.params import SearchParams
from app.schemas import SearchHit
from app.search_index import TEXT_SEPARATOR, Ranking
from app.search_kinds import SEARCH_KIND_CODES, SEARCH_KIND_MODULUS, SEARCH_KIND_OF_CODE
from app.tabular import line_writer


@dataclass
class Where:
    """Conditions joined with AND, with their parameters in placeholder order."""

    dialect: Dialect
    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    @property
    def p(self) -> str:
        return self.dialect.placeholder

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def any_of(self, column: str, values: Sequence[Any]) -> None:
        if len(values) == 1:
            self.add(f"{column} = {self.p}", values[0])
        else:
            self.add(f"{column} IN ({', '.join(self.p for _ in values)})", *values)

    def any_in(self, template: str, values: Sequence[Any]) -> None:
        """`template` holds `{values}`, replaced by the placeholders of the values."""
        self.add(template.format(values=", ".join(self.p for _ in values)), *values)

    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""


@dataclass(frozen=True)
class SortKey:
    column: str
    nullable: bool = False


@dataclass(frozen=True)
class Resource:
    kind: str
    table: str
    sorts: dict[str, tuple[SortKey, ...]]
    filter: Callable[[Any, Where], None]


def _name(kind: str, value: str | None, where: Where) -> None:
    # Every name contains the empty string: a value that folds to nothing (spaces, marks) matches all.
    names = [fold(v) for v in split_values(value)]
    if names and all(names):
        where.add(where.dialect.name_condition(kind, len(names)), *[like_pattern(n) for n in names])


def _mentioned_in(kind: str, value: str | None, where: Where) -> None:
    if value:
        where.any_in(
            f"id IN (SELECT entity_id FROM mention WHERE kind = '{kind}' AND article_id IN ({{values}}))",
            split_values(value),
        )


def _located(kind: str, value: str | None, where: Where) -> None:
    if value:
        where.any_in(
            f"id IN (SELECT entity_id FROM location WHERE kind = '{kind}' AND place_id IN ({{values}}))",
            split_values(value),
        )


def _people(f: Any, where: Where) -> None:
    _name("person", f.name, where)
    if f.nationality:
        where.any_of("nationality", split_values(f.nationality))
    if f.unit:
        where.any_in(
            "id IN (SELECT person_id FROM membership WHERE unit_id IN ({values}))", split_values(f.unit)
        )
    if f.min_age is not None:
        where.add(f"age >= {where.p}", f.min_age)
    if f.max_age is not None:
        where.add(f"age <= {where.p}", f.max_age)
    _mentioned_in("person", f.article, where)


def _units(f: Any, where: Where) -> None:
    _name("unit", f.name, where)
    for column in ("country", "side", "kind"):
        if getattr(f, column):
            where.any_of(column, split_values(getattr(f, column)))
    _located("unit", f.place, where)
    _mentioned_in("unit", f.article, where)


def _places(f: Any, where: Where) -> None:
    _name("place", f.name, where)
    for column in ("country", "kind"):
        if getattr(f, column):
            where.any_of(column, split_values(getattr(f, column)))
    _mentioned_in("place", f.article, where)


def _quotes(f: Any, where: Where) -> None:
    if f.speaker:
        where.any_of("speaker_id", split_values(f.speaker))
    if f.unit:
        where.any_in(
            "speaker_id IN (SELECT person_id FROM membership WHERE unit_id IN ({values}))",
            split_values(f.unit),
        )
    if f.q is not None:
        terms = search_terms(f.q)
        if terms:
            where.add(where.dialect.quote_text_condition(), where.dialect.fts_query(terms, body_only=True))
        else:
            where.add("1 = 0")  # no words, so no quote contains them all
    if f.anonymous is not None:
        where.add(f"anonymous = {where.p}", f.anonymous)
    if f.article:
        where.any_of("article_id", split_values(f.article))


def _events(f: Any, where: Where) -> None:
    ranges: list[tuple[str | None, str | None]] = []
    for year in split_values(f.year):
        ranges.append((f"{year}-01-01", f"{year}-12-31"))
    if f.from_ is not None or f.to is not None:
        ranges.append((f.from_.isoformat() if f.from_ else None, f.to.isoformat() if f.to else None))
    if ranges:
        # An event matches when its date range overlaps the asked range; an open end is still going on.
        # Events the text gives no date for match no date filter.
        alternatives = []
        params: list[Any] = []
        for start, end in ranges:
            parts = ["date_start IS NOT NULL"]
            if start:
                parts.append(f"(date_end IS NULL OR date_end >= {where.p})")
                params.append(start)
            if end:
                parts.append(f"date_start <= {where.p}")
                params.append(end)
            alternatives.append("(" + " AND ".join(parts) + ")")
        where.add("(" + " OR ".join(alternatives) + ")", *params)
    _located("event", f.place, where)
    if f.participant:
        where.any_in(
            "id IN (SELECT event_id FROM participation WHERE participant_id IN ({values}))",
            split_values(f.participant),
        )
    if f.kind:
        where.any_of("kind", split_values(f.kind))
    _mentioned_in("event", f.article, where)


def _figures(f: Any, where: Where) -> None:
    if f.qualifier:
        where.any_of("qualifier", split_values(f.qualifier))
    if f.subject:
        where.any_of("subject_id", split_values(f.subject))
    if f.article:
        where.any_of("article_id", split_values(f.article))


def _articles(f: Any, where: Where) -> None:
    return None


NAME, ID = SortKey("sort_name"), SortKey("id")
RESOURCES: dict[str, Resource] = {
    "person": Resource(
        "person",
        "person",
        {
            "name": (NAME,),
            "age": (SortKey("age", True),),
            "nationality": (SortKey("nationality", True),),
            "id": (ID,),
        },
        _people,
    ),
    "unit": Resource(
        "unit",
        "unit",
        {"name": (NAME,), "kind": (SortKey("kind"),), "country": (SortKey("country", True),), "id": (ID,)},
        _units,
    ),
    "place": Resource(
        "place",
        "place",
        {"name": (NAME,), "kind": (SortKey("kind"),), "country": (SortKey("country", True),), "id": (ID,)},
        _places,
    ),
    "event": Resource(
        "event",
        "event",
        {
            "date": (SortKey("date_start", True),),
            "title": (SortKey("sort_title"),),
            "kind": (SortKey("kind"),),
            "id": (ID,),
        },
        _events,
    ),
    "quote": Resource(
        "quote",
        "quote",
        {
            "position": (SortKey("article_id"), SortKey("start")),
            "speaker": (SortKey("speaker_id", True),),
            "id": (ID,),
        },
        _quotes,
    ),
    "figure": Resource(
        "figure",
        "figure",
        {
            "position": (SortKey("article_id"), SortKey("start")),
            "amount": (SortKey("amount", True),),
            "qualifier": (SortKey("qualifier"),),
            "id": (ID,),
        },
        _figures,
    ),
    "article": Resource(
        "article",
        "article",
        {"published": (SortKey("published_start", True),), "title": (SortKey("title"),), "id": (ID,)},
        _articles,
    ),
}


@dataclass(frozen=True)
class Sorting:
    order: tuple[tuple[SortKey, bool], ...]  # (key, descending), the tie-breaking id last
    sql: str  # the ORDER BY clause's expressions
    key_columns: str  # the columns a cursor keeps


@functools.lru_cache(maxsize=256)  # per kind and valid sort order: the SQL is made once
def _sorting(kind: str, spec: tuple[tuple[str, bool], ...]) -> Sorting:
    order = tuple((key, descending) for name, descending in spec for key in RESOURCES[kind].sorts[name])
    return Sorting(order, _order_sql(order), ", ".join(key.column for key, _ in order))


def _null_flag(key: SortKey) -> str:
    return f"(CASE WHEN {key.column} IS NULL THEN 1 ELSE 0 END)"


def _order_sql(order: Sequence[tuple[SortKey, bool]]) -> str:
    # Unknown values (NULL) sort last in both directions, the same on both backends.
    parts = []
    for key, descending in order:
        if key.nullable:
            parts.append(_null_flag(key))
        parts.append(f"{key.column} DESC" if descending else key.column)
    return ", ".join(parts)


def _keyset(order: Sequence[tuple[SortKey, bool]], values: list[Any], where: Where) -> None:
    """Rows strictly after `values` in `order` (the row values of the last row of the previous page)."""
    directions = {descending for _, descending in order}
    if len(directions) == 1 and not any(key.nullable for key, _ in order):
        columns = ", ".join(key.column for key, _ in order)
        marks = ", ".join(where.p for _ in order)
        where.add(f"({columns}) {'<' if directions.pop() else '>'} ({marks})", *values)
        return
    components: list[tuple[str, bool, Any]] = []
    for (key, descending), value in zip(order, values, strict=True):
        if key.nullable:
            components.append((_null_flag(key), False, 1 if value is None else 0))
        components.append((key.column, descending, value))
    branches, params = [], []
    for index, (expression, descending, value) in enumerate(components):
        if value is None:
            continue  # nothing sorts strictly after NULL on this component
        parts = []
        for earlier, _, earlier_value in components[:index]:
            if earlier_value is None:
                parts.append(f"{earlier} IS NULL")
            else:
                parts.append(f"{earlier} = {where.p}")
                params.append(earlier_value)
        parts.append(f"{expression} {'<' if descending else '>'} {where.p}")
        params.append(value)
        branches.append("(" + " AND ".join(parts) + ")")
    where.add("(" + " OR ".join(branches) + ")" if branches else "1 = 0", *params)


async def list_records(snapshot: Snapshot, kind: str, params: ListParams, fmt: str) -> Page:
    """One page of records, each as stored for `fmt`: its CSV line for `csv`, its JSON document otherwise."""
    resource = RESOURCES[kind]
    where = Where(snapshot.dialect)
    resource.filter(params, where)
    filters, filter_params = where.sql(), list(where.params)  # for the count: without the cursor's keyset
    p = snapshot.dialect.placeholder

    sorting = _sorting(kind, params.sort_spec())
    offset = params.offset
    if params.cursor is not None:
        if params.offset:
            raise InvalidParameter(
                "offset", "cannot be combined with `cursor`; use one or the other", params.offset
            )
        cursor = Cursor.decode(params.cursor, params)
        if len(cursor.keys) != len(sorting.order):
            raise InvalidParameter(
                "cursor", "does not fit this sort order; start again without `cursor`", params.cursor
            )
        offset = cursor.offset
        _keyset(sorting.order, cursor.keys, where)
    skipped = 0 if params.cursor is not None else offset  # rows the statement skips with OFFSET
    column = "csv" if fmt == "csv" else "doc"
    rows_sql = f"FROM {resource.table}{where.sql()} ORDER BY {sorting.sql} LIMIT {p}"
    joined_sql = (
        None if skipped else snapshot.dialect.joined_items_sql(column, ITEM_SEPARATORS[fmt], rows_sql)
    )
    last_keys = None  # the sort key of the page's last row, when another page follows
    if joined_sql is not None:
        # SQLite, from the start or a cursor: the page's items come joined, in one value. Only a full page
        # needs its last row's key, read with the row after it (whose presence says a page follows).
        ((joined, found),) = await snapshot.all(joined_sql, [*where.params, params.limit])
        docs = [joined] if found else []
        if found == params.limit:
            sql = f"SELECT {sorting.key_columns} {rows_sql} OFFSET {p}"
            keys = await snapshot.all(sql, [*where.params, 2, params.limit - 1])
            last_keys = list(keys[0]) if len(keys) == 2 else None
    else:
        # PostgreSQL reads each row's sort key with it (a statement is a round trip); SQLite, past an
        # offset, each row's id, and the last one's key by that id afterwards.
        keys_with_rows = snapshot.dialect.keys_with_rows
        selected = f"{column}, {sorting.key_columns}" if keys_with_rows else f"{column}, id"
        sql = f"SELECT {selected} {rows_sql}"
        values = [*where.params, params.limit + 1]
        if skipped:
            sql += f" OFFSET {p}"
            values.append(skipped)
        rows = await snapshot.all(sql, values)
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            if keys_with_rows:
                last_keys = list(rows[-1][1:])
            else:
                sql = f"SELECT {sorting.key_columns} FROM {resource.table} WHERE id = {p}"
                last_keys = list((await snapshot.all(sql, [rows[-1][1]]))[0])
        # Both drivers give BLOB and bytea values as `bytes`: joined as they come.
        docs, found = [row[0] for row in rows], len(rows)

    next_cursor = None if last_keys is None else Cursor(offset + params.limit, last_keys).encode(params)
    if not filters:
        total = snapshot.info.counts.get(kind, 0)  # counted at load time
    elif next_cursor is None and params.cursor is None and (found or not offset):
        total = offset + found  # the last page of an offset listing: no need to count
    else:
        total = (await snapshot.all(f"SELECT count(*) FROM {resource.table}{filters}", filter_params))[0][0]
    return Page(docs, total, params.limit, offset, next_cursor)


async def get_record(snapshot: Snapshot, kind: str, ident: str) -> bytes:
    table = RESOURCES[kind].table
    rows = await snapshot.all(f"SELECT doc FROM {table} WHERE id = {snapshot.dialect.placeholder}", [ident])
    if not rows:
        raise NotFound(f"no {kind} with id `{ident}`; list them at /{PATHS[kind]}")
    return bytes(rows[0][0])


async def article_text(snapshot: Snapshot, ident: str) -> str:
    rows = await snapshot.all(f"SELECT text FROM article WHERE id = {snapshot.dialect.placeholder}", [ident])
    if not rows:
        raise NotFound(f"no article with id `{ident}`; list them at /articles")
    return str(rows[0][0])


async def article_spans(snapshot: Snapshot, ident: str) -> list[tuple[Any, ...]]:
    """One span per fact in an article, for the annotated page: a quote's and a figure's own words, and
    each passage that mentions a person, unit, place or event."""
    p = snapshot.dialect.placeholder
    return await snapshot.all(
        'SELECT kind, entity_id, start, "end", certainty, note FROM evidence '
        f"WHERE article_id = {p} AND (field = 'mention' AND kind NOT IN ('quote', 'figure') "
        "OR field = kind AND kind IN ('quote', 'figure')) "
        'ORDER BY start, "end" DESC, kind, entity_id',
        [ident],
    )


async def docs_by_id(snapshot: Snapshot, kind: str, idents: Sequence[str]) -> list[bytes]:
    if not idents:
        return []
    table = RESOURCES[kind].table
    marks = ", ".join(snapshot.dialect.placeholder for _ in idents)
    rows = await snapshot.all(f"SELECT doc FROM {table} WHERE id IN ({marks})", list(idents))
    return [bytes(row[0]) for row in rows]


PATHS = {  # the URL path of each kind's list
    "person": "people",
    "unit": "units",
    "place": "places",
    "event": "events",
    "quote": "quotes",
    "figure": "figures",
    "article": "articles",
}


async def _entries_and_snippets(
    snapshot: Snapshot, query: str, ranked: Sequence[tuple[Any, ...]]
) -> dict[int, tuple[Any, ...]]:
    """The page's entries and snippets by id, for entry ids ranked alone: (kind, entity id, label, snippet)."""
    if not ranked:
        return {}
    ids = [hit for hit, _ in ranked]
    dialect = snapshot.dialect
    rows = await snapshot.all(dialect.snippets_sql(len(ids)), dialect.snippets_params(query, ids))
    return {row[0]: row[1:] for row in rows}


async def page_entries(snapshot: Snapshot, terms: list[str], ranking: Ranking) -> dict[int, tuple[Any, ...]]:
    """The entries and snippets of a page ranked in memory, by id: (kind, entity id, label, snippet). Made
    here where their texts allow — on SQLite for its short entries (`app.snippets`), on PostgreSQL for
    every entry (`app.headlines`) — and by the database for the others."""
    if snapshot.dialect.backend == "postgresql":
        found = await _headlines_made_here(snapshot, terms, ranking)
    else:
        found = _snippets_made_here(terms, await _short_entries(snapshot, ranking)) if ranking.short else {}
    others = [hit for hit in ranking.hits if hit[0] not in found]
    if others:
        found.update(await _entries_and_snippets(snapshot, ranking.snippet_query, others))
    return found


async def _short_entries(snapshot: Snapshot, ranking: Ranking) -> list[tuple[Any, ...]]:
    """The page's short entries as (id, kind, entity id, label, body): from the texts the search index
    keeps (`ShortTexts`), or the database."""
    if ranking.short_texts is None:
        marks = ", ".join(snapshot.dialect.placeholder for _ in ranking.short)
        sql = f"SELECT id, kind, entity_id, label, body FROM search_entry WHERE id IN ({marks})"
        return await snapshot.all(sql, ranking.short)
    entries: list[tuple[Any, ...]] = []
    for ident, record in zip(ranking.short, ranking.short_texts, strict=True):
        entity_id, label, body = record.decode().split(TEXT_SEPARATOR)
        entries.append((ident, SEARCH_KIND_OF_CODE[ident % SEARCH_KIND_MODULUS], entity_id, label, body))
    return entries


def _snippets_made_here(terms: list[str], entries: list[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    """As `_entries_and_snippets`, for short entries, with the snippets made by `app.snippets`: of those
    whose texts are plain (the others need FTS5's own)."""
    found = {}
    for ident, kind, entity_id, label, body in entries:
        snippet = snippets.snippet(terms, label, body)
        if snippet is not None:
            found[ident] = (kind, entity_id, label, snippet)
    return found


async def _headlines_made_here(
    snapshot: Snapshot, terms: list[str], ranking: Ranking
) -> dict[int, tuple[Any, ...]]:
    """PostgreSQL: as `_entries_and_snippets`, with the headlines of the entries `ranking.short` names made
    by `app.headlines`, where their texts allow (the index is told of those it declines)."""
    if not ranking.hits:
        return {}
    ids, made_here = [hit for hit, _ in ranking.hits], ranking.short
    rows = await snapshot.all(POSTGRES_HEADLINES_SQL, [made_here, made_here, ranking.snippet_query, ids])
    found, declined, words = {}, [], list(dict.fromkeys(terms))  # each once, as `ranking.snippet_query`
    for ident, kind, entity_id, label, body, made in rows:
        snippet = made if body is None else headlines.headline(words, label, body)
        if snippet is None:
            declined.append(ident)
        else:
            found[ident] = (kind, entity_id, label, snippet)
    if declined and snapshot.search_index is not None:
        snapshot.search_index.declined(ranking, declined)
    return found


def _hits(ranked: Sequence[tuple[Any, ...]], found: dict[int, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(*found[hit][:3], score, found[hit][3]) for hit, score in ranked]


async def _ranked_in_database(
    snapshot: Snapshot, terms: list[str], kinds: list[str], limit: int, offset: int
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of hits as (kind, entity id, label, score, snippet), and the number of all matches,
    ranked by the database: FTS5's bm25 or PostgreSQL's ts_rank_cd."""
    dialect = snapshot.dialect
    count_sql, ranked_sql = dialect.search_sql(kinds or None)
    query = dialect.fts_query(terms)
    count_params, ranked_params = dialect.search_params(query, kinds, limit, offset)
    ranked = await snapshot.all(ranked_sql, ranked_params)
    total = ranked[0][-1] if ranked else 0
    if not ranked and offset:  # nothing matches, or the offset is past the last match
        total = (await snapshot.all(count_sql, count_params))[0][0]
    if dialect.backend == "sqlite":
        hits = [row[:2] for row in ranked]
        return _hits(hits, await _entries_and_snippets(snapshot, query, hits)), total
    return [row[:-1] for row in ranked], total


async def search(snapshot: Snapshot, params: SearchParams, fmt: str) -> Page:
    """One page of ranked hits, each as a CSV line for `csv` and as JSON otherwise; paged by offset (a
    relevance order has no stable keyset). The matches are ranked in memory where the query's words allow
    (`app.search_index`): on SQLite with the same scores as FTS5's, on PostgreSQL with the same bm25."""
    terms = search_terms(params.q)
    if not terms:  # nothing to look for (only punctuation): nothing found
        return Page([], 0, params.limit, params.offset)
    kinds = split_values(params.kind)  # validated against SEARCH_KINDS by SearchParams
    index = snapshot.search_index
    if index is not None and index.applies(terms):
        codes = [SEARCH_KIND_CODES[kind] for kind in kinds]
        ranking = await index.rank(snapshot, terms, codes, params.limit, params.offset)
        found = await page_entries(snapshot, terms, ranking)
        if await index.stale(snapshot, ranking):
            raise DatasetChanged  # ranked from a dataset a load has since replaced: answered again
        rows, total = _hits(ranking.hits, found), ranking.total
    else:
        rows, total = await _ranked_in_database(snapshot, terms, kinds, params.limit, params.offset)
    encode = line_writer(SearchHit) if fmt == "csv" else orjson.dumps
    hits = [
        encode(
            {
                "kind": kind,
                "id": ident,
                "label": label,
                "score": round(float(score), 6),
                "snippet": snippet,
                "url": f"/{PATHS[kind]}/{ident}",
            }
        )
        for kind, ident, label, score, snippet in rows
    ]
    more = params.offset + len(hits) < total
    return Page(
        hits, total, params.limit, params.offset, next_offset=params.offset + params.limit if more else None
    )
