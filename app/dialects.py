"""Everything that differs between SQLite and PostgreSQL, in one place.

Both backends hold the same tables (`app.models`). They differ in three things only:
- full-text search: SQLite's FTS5 (`unicode61 remove_diacritics 2`, `snippet()`) against PostgreSQL's
  tsvector with an `unaccent` text-search configuration (`ts_headline`); both rank with bm25 in memory
  (`app.search_index`), and a query with a word that is not plain letters and digits with FTS5's bm25 or
  `ts_rank_cd`;
- substring matching of folded names: an FTS5 trigram index against `pg_trgm`;
- parameter placeholders (`?` against `%s`).
Names are folded in Python (`app.folding`) on both, so name matching is identical by construction.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from app.search_kinds import SEARCH_KIND_CODES, SEARCH_KIND_MODULUS

Backend = Literal["sqlite", "postgresql"]

# Objects the migrations create outside the SQLModel metadata, for one backend only; Alembic's
# autogenerate ignores them.
BACKEND_OBJECTS = frozenset(
    {
        "search_fts",
        "search_fts_data",
        "search_fts_idx",
        "search_fts_docsize",
        "search_fts_config",
        "name_trigram",
        "name_trigram_data",
        "name_trigram_idx",
        "name_trigram_docsize",
        "name_trigram_config",
        "ix_search_entry_document",
        "ix_name_folded_trgm",
        "document",
        "ix_quote_speaker_page",  # SQLite's covering indexes of quote lists (migration 0004)
        "ix_quote_position_csv",
        "search_word",  # the words ranking in memory reads (migrations 0005 and 0006)
        "search_length",  # PostgreSQL's lengths for it (SQLite reads FTS5's)
    }
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic hook: leave the backend-specific structures (search, covering indexes) out of model comparisons."""
    return name not in BACKEND_OBJECTS


SQLITE_SEARCH_DDL = [
    # External-content FTS5 tables over search_entry and name: the text lives once, in those tables.
    "CREATE VIRTUAL TABLE search_fts USING fts5(label, body, content='search_entry', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE name_trigram USING fts5(folded, content='name', content_rowid='id', tokenize='trigram')",
]
SQLITE_SEARCH_DROP = ["DROP TABLE IF EXISTS name_trigram", "DROP TABLE IF EXISTS search_fts"]
SQLITE_FULL_TEXT = {
    # content table: (its full-text index, the columns indexed); each is keyed by its table's `id`.
    # A load inserts each batch of rows into both, so an index is complete as soon as its table is.
    "search_entry": ("search_fts", ("label", "body")),
    "name": ("name_trigram", ("folded",)),
}

POSTGRES_SEARCH_DDL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'newsfacts') THEN
            CREATE TEXT SEARCH CONFIGURATION newsfacts (COPY = simple);
            ALTER TEXT SEARCH CONFIGURATION newsfacts
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
        END IF;
    END $$""",
    "ALTER TABLE search_entry ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('newsfacts', label), 'A') || setweight(to_tsvector('newsfacts', body), 'B')) STORED",
    "CREATE INDEX ix_search_entry_document ON search_entry USING gin (document)",
    "CREATE INDEX ix_name_folded_trgm ON name USING gin (folded gin_trgm_ops)",
]
POSTGRES_SEARCH_DROP = [
    "DROP INDEX IF EXISTS ix_name_folded_trgm",
    "DROP INDEX IF EXISTS ix_search_entry_document",
    "ALTER TABLE search_entry DROP COLUMN IF EXISTS document",
]


# PostgreSQL: what ranking in memory reads (`app.search_index.PostgresSearchIndex`), written by each load
# from the `document` column once its rows are in (migration 0005 says why): each word's entries and its
# weighted occurrences in each (10 in a label, A; 1 in a body, B), and each entry's length in words, as
# arrays of big-endian 4-byte integers (`int4send`). ~6 s for the benchmark's million facts.
POSTGRES_SEARCH_WORDS = [
    "DELETE FROM search_word",
    "DELETE FROM search_length",
    "INSERT INTO search_word (word, entries, counts) "
    "SELECT w.lexeme, string_agg(int4send(s.id), ''::bytea ORDER BY s.id), "
    "string_agg(int4send(10 * cardinality(array_positions(w.weights, 'A')) "
    "+ cardinality(array_positions(w.weights, 'B'))), ''::bytea ORDER BY s.id) "
    "FROM search_entry s, unnest(s.document) AS w GROUP BY w.lexeme",
    "INSERT INTO search_length (entries, lengths) "
    "SELECT coalesce(string_agg(int4send(s.id), ''::bytea ORDER BY s.id), ''::bytea), "
    "coalesce(string_agg(int4send(s.length), ''::bytea ORDER BY s.id), ''::bytea) FROM ("
    "SELECT id, (SELECT coalesce(sum(cardinality(w.positions)), 0)::int FROM unnest(document) AS w) AS length "
    "FROM search_entry) AS s",
]
POSTGRES_SEARCH_TABLES = ("search_word", "search_length")


def search_ddl(backend: str) -> list[str]:
    return SQLITE_SEARCH_DDL if backend == "sqlite" else POSTGRES_SEARCH_DDL


def search_drop(backend: str) -> list[str]:
    return SQLITE_SEARCH_DROP if backend == "sqlite" else POSTGRES_SEARCH_DROP


# Records that *are* what the query names (a person, a unit, a place) rank above texts that mention them.
KIND_BOOST = {
    "person": 2.0,
    "unit": 2.0,
    "place": 2.0,
    "event": 1.5,
    "quote": 1.0,
    "figure": 1.0,
    "article": 0.5,
}
# bm25's weights of a match in an entry's label and in its body (SQLite; PostgreSQL weighs A and B).
COLUMN_WEIGHTS = (10.0, 1.0)
_BOOST_SQL = (
    "(CASE s.kind " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in KIND_BOOST.items()) + " ELSE 1.0 END)"
)

_WORD = re.compile(r"\w+", re.UNICODE)
MARK_START, MARK_END = "<mark>", "</mark>"
SNIPPET_TOKENS = 24  # FTS5's snippet of a hit: its window, in tokens
HEADLINE_MIN_WORDS, HEADLINE_MAX_WORDS = 12, 30  # PostgreSQL's snippet of a hit: its window, in words
_HEADLINE = (  # PostgreSQL's snippet of a hit (`query`: its tsquery); also made in Python (`app.headlines`)
    "ts_headline('newsfacts', s.label || E'\\n' || s.body, {query}, "
    f"'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={HEADLINE_MAX_WORDS}, "
    f"MinWords={HEADLINE_MIN_WORDS}, MaxFragments=1, "
    'FragmentDelimiter=" … "\')'
)
_PAGE_HEADLINE = _HEADLINE.format(query="to_tsquery('newsfacts', %s)")
_PAGE_ROWS = "FROM search_entry s WHERE s.id = ANY(%s)"
POSTGRES_SNIPPETS_SQL = f"SELECT s.id, s.kind, s.entity_id, s.label, {_PAGE_HEADLINE} " + _PAGE_ROWS
# As `POSTGRES_SNIPPETS_SQL`, where the entries of the first array come with their bodies for
# `app.headlines` instead of their headlines: (id, kind, entity id, label, body, headline), each row's body
# or headline null. Parameters: those ids, those ids again, the query, the page's ids.
POSTGRES_HEADLINES_SQL = (
    "SELECT s.id, s.kind, s.entity_id, s.label, CASE WHEN s.id = ANY(%s) THEN s.body END, "
    f"CASE WHEN s.id = ANY(%s) THEN NULL ELSE {_PAGE_HEADLINE} END " + _PAGE_ROWS
)


def search_terms(query: str) -> list[str]:
    """The words of a user's query. Operators and punctuation are dropped, so no input is a syntax error
    in either backend's query language: `NEAR(`, quotes, `*`, `OR` and `-` are just text."""
    from app.folding import fold

    return [word for word in _WORD.findall(fold(query)) if word != "_"][:32]


@functools.cache  # a few separators, asked for on every list request
def _sql_text(value: bytes) -> str:
    """A string in SQL, written with `char()` (control characters and quotes need no escaping)."""
    return f"char({', '.join(str(byte) for byte in value)})" if value else "''"


@dataclass(frozen=True)
class Dialect:
    backend: Backend
    # SQLite: the schema search's snippets read FTS5's index and the entries from: `main`, or the file
    # attached a second time with a page cache of its own (`SqliteDatabase`, `SNIPPET_CACHE_MB`).
    snippets_schema: str = "main"

    @property
    def placeholder(self) -> str:
        return "?" if self.backend == "sqlite" else "%s"

    @property
    def keys_with_rows(self) -> bool:
        """Whether a page's statement also reads each row's sort key (for the next page's cursor). On
        PostgreSQL a statement is a round trip, which costs more than the columns; SQLite copies every
        column it reads out of its pages, so it reads the key of the page's last row alone, afterwards."""
        return self.backend == "postgresql"

    def joined_items_sql(self, column: str, separator: bytes, rows_sql: str) -> str | None:
        """SQLite: a page's items joined in the database, as one value, and how many there are; `rows_sql`
        is the page's `FROM … ORDER BY … LIMIT ?`. Python then makes one object, not two per row: ~2.5 µs
        less for a speaker's 27 quotes, a third of a 500-row CSV page's time. A subquery with a `LIMIT` is
        run as a co-routine in its own order, and `group_concat` takes its rows as they come
        (`tests/test_runtime.py` checks the plan). None on PostgreSQL, which sends the rows with their
        keys (`keys_with_rows`)."""
        if self.backend != "sqlite":
            return None
        joiner = _sql_text(separator)
        return f"SELECT CAST(group_concat({column}, {joiner}) AS BLOB), count(*) FROM (SELECT {column} {rows_sql})"

    def fts_query(self, terms: list[str], body_only: bool = False) -> str:
        """Every term must match, each as a prefix (`ukrain` finds Ukraine and Ukrainians)."""
        if self.backend == "sqlite":
            # Terms are \\w+ only, so quoting them makes them plain strings to FTS5.
            expression = " ".join(f'"{term}"*' for term in terms)
            return f"body : ({expression})" if body_only else expression
        weight = "B" if body_only else ""
        return " & ".join(f"{term}:*{weight}" for term in terms)

    def search_params(
        self, query: str, kinds: list[str], limit: int, offset: int
    ) -> tuple[list[Any], list[Any]]:
        """The parameters of `search_sql`'s two statements."""
        kinds_or_codes: list[Any] = (
            [SEARCH_KIND_CODES[kind] for kind in kinds] if self.backend == "sqlite" else list(kinds)
        )
        return [query, *kinds_or_codes], [query, *kinds_or_codes, limit, offset]

    def search_sql(self, kinds: list[str] | None) -> tuple[str, str]:
        """(count SQL, ranked SQL) for a full-text query, optionally narrowed to some kinds.

        The ranked statement gives one page of matches, best first, with the number of all matches in its
        last column (`count(*) OVER ()`: the one pass that ranks them counts them too), so the count
        statement is needed only for a page past the end. On PostgreSQL its rows are whole hits (kind,
        entity id, label, score, snippet, total); on SQLite they are (entry id, score, total), and
        `snippets_sql` then reads the page's entries and snippets.
        """
        p = self.placeholder
        if self.backend == "sqlite":
            # An entry's kind is in its id (`app.search_kinds.SEARCH_KIND_CODES`), and ids follow (kind,
            # entity id) order: matches are ranked and filtered without reading their entries.
            code = f"(search_fts.rowid % {SEARCH_KIND_MODULUS})"
            codes = f" AND {code} IN ({', '.join(p for _ in kinds)})" if kinds else ""
            where = f"search_fts MATCH {p}{codes}"
            count = f"SELECT count(*) FROM search_fts WHERE {where}"
            boost = " ".join(
                f"WHEN {SEARCH_KIND_CODES[kind]} THEN {value}" for kind, value in KIND_BOOST.items()
            )
            label, body = COLUMN_WEIGHTS
            scored = (
                f"SELECT search_fts.rowid AS hit, -bm25(search_fts, {label}, {body}) * (CASE {code} {boost} END) "
                f"AS score FROM search_fts WHERE {where}"
            )
            ranked = (
                f"SELECT hit, score, count(*) OVER () FROM ({scored}) "
                f"ORDER BY score DESC, hit LIMIT {p} OFFSET {p}"
            )
            return count, ranked
        kind_filter = f" AND s.kind IN ({', '.join(p for _ in kinds)})" if kinds else ""
        where = f"s.document @@ to_tsquery('newsfacts', {p}){kind_filter}"
        count = f"SELECT count(*) FROM search_entry s WHERE {where}"
        # Matches are scored first (`OFFSET 0` keeps that subquery as it is), so the window that counts
        # them holds narrow rows, not labels, bodies and documents (which spilled to disk); only the page's
        # hits are read again for their labels and snippets.
        scored = (
            f"SELECT s.id, s.kind, s.entity_id, q.query, ts_rank_cd(s.document, q.query) * {_BOOST_SQL} AS score "
            f"FROM search_entry s, to_tsquery('newsfacts', {p}) AS q(query) "
            f"WHERE s.document @@ q.query{kind_filter} OFFSET 0"
        )
        ranked = (
            "SELECT s.kind, s.entity_id, s.label, hit.score, "
            f"{_HEADLINE.format(query='hit.query')}, hit.total FROM ("
            f"SELECT m.*, count(*) OVER () AS total FROM ({scored}) AS m "
            f"ORDER BY m.score DESC, m.kind, m.entity_id LIMIT {p} OFFSET {p}) AS hit "
            "JOIN search_entry s ON s.id = hit.id "
            "ORDER BY hit.score DESC, hit.kind, hit.entity_id"
        )
        return count, ranked

    def snippets_sql(self, hits: int) -> str:
        """The entries and snippets of a page of `hits` entries ranked in memory (`app.search_index`), as
        (id, kind, entity id, label, snippet), for `snippets_params`.

        SQLite: FTS5 sets a query up once per scan, and for prefixes that means merging every matching
        word's list: one scan over the hits' id range costs less than a lookup per hit, each set up anew.
        PostgreSQL: the page's rows by id, each with its headline.
        """
        if self.backend == "postgresql":
            return POSTGRES_SNIPPETS_SQL
        ids = ", ".join("?" for _ in range(hits))
        schema = self.snippets_schema
        return (
            f"SELECT search_fts.rowid, e.kind, e.entity_id, e.label, "
            f"snippet(search_fts, -1, '{MARK_START}', '{MARK_END}', '…', {SNIPPET_TOKENS}) "
            f"FROM {schema}.search_fts JOIN {schema}.search_entry e ON e.id = search_fts.rowid "
            "WHERE search_fts MATCH ? AND search_fts.rowid BETWEEN ? AND ? "
            f"AND search_fts.rowid + 0 IN ({ids})"  # `+ 0`: a filter on the scan, not a lookup per id
        )

    def snippets_params(self, query: str, ids: list[int]) -> list[Any]:
        """The parameters of `snippets_sql` (and of `POSTGRES_HEADLINES_SQL`): the query, and the ids.

        PostgreSQL takes the ids as one array: psycopg parses a statement of more than 50 parameters anew
        each time (`MAX_CACHED_STATEMENT_PARAMS`), ~0.2 ms of the server's time for a page of 50."""
        if self.backend == "postgresql":
            return [query, ids]
        return [query, min(ids), max(ids), *ids]

    def quote_text_condition(self) -> str:
        """A condition on `quote.id` matching quotes whose own words contain every term."""
        p = self.placeholder
        if self.backend == "sqlite":
            return (
                "id IN (SELECT s.entity_id FROM search_fts JOIN search_entry s ON s.id = search_fts.rowid "
                f"WHERE search_fts MATCH {p} AND search_fts.rowid % {SEARCH_KIND_MODULUS} = {SEARCH_KIND_CODES['quote']})"
            )
        return f"id IN (SELECT s.entity_id FROM search_entry s WHERE s.document @@ to_tsquery('newsfacts', {p}) AND s.kind = 'quote')"

    def name_condition(self, kind: str, patterns: int) -> str:
        """A condition on `id` matching records any of whose folded names contains one of the patterns.

        Each pattern is a `LIKE` pattern (`%kyiv%`, with `\\` escaping); both backends answer it from a
        trigram index once the pattern has three characters or more.
        """
        p = self.placeholder
        likes = " OR ".join(f"n.folded LIKE {p} ESCAPE '\\'" for _ in range(patterns))
        if self.backend == "sqlite":
            return (
                f"id IN (SELECT n.entity_id FROM name_trigram t JOIN name n ON n.id = t.rowid "
                f"WHERE n.kind = '{kind}' AND ({likes.replace('n.folded', 't.folded')}))"
            )
        return f"id IN (SELECT n.entity_id FROM name n WHERE n.kind = '{kind}' AND ({likes}))"


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
