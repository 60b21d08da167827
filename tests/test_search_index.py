"""Search ranks in memory (`app.search_index`): on SQLite exactly as FTS5 ranks in the database, on PostgreSQL
with the same bm25 over the matches of its own `@@`."""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app import queries
from app.database import SqliteDatabase
from app.dialects import KIND_BOOST, Dialect, search_terms
from app.folding import fold
from app.params import SearchParams
from app.search_index import K1, B, PostgresSearchIndex, SearchIndex, varints
from app.settings import Settings
from tests.conftest import api_client, synthetic_settings_in

pytestmark = pytest.mark.anyio
KINDS = [None, "person", "quote", "unit,place,event", "article,figure"]
_MARKED = re.compile(r"<mark>(.*?)</mark>")


@asynccontextmanager
async def _opened(
    path: Path, index: SearchIndex | None, snippet_cache_mb: int = 0
) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(path, timeout=30, search_index=index, snippet_cache_mb=snippet_cache_mb)
    await database.open()
    yield database
    await database.close()


async def _search(database: SqliteDatabase, **params: Any) -> tuple[list[dict[str, Any]], int]:
    async with database.snapshot() as snapshot:
        page = await queries.search(snapshot, SearchParams.model_validate(params), "json")
    return [orjson.loads(doc) for doc in page.docs], page.total


def _queries(path: Path, words: int) -> list[str]:
    """Every `words`-th word of the full-text index, whole and as prefixes of 1 to 4 letters, and the
    people's and units' names (several words each)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, search_fts, row)")
        vocabulary = [term for (term,) in db.execute("SELECT term FROM temp.v")][::words]
        names = [name for (name,) in db.execute("SELECT name FROM person UNION ALL SELECT name FROM unit")]
    prefixes = sorted({word[:length] for word in vocabulary for length in (1, 2, 3, 4)})
    return vocabulary + prefixes + names[:: max(1, len(names) // 60)]


async def _assert_ranked_as_fts5_ranks(path: Path, words: int) -> int:
    """Hits, scores and totals, page by page, compared with FTS5's own ranking; returns the cases."""
    cases = 0
    async with _opened(path, SearchIndex(64 << 20)) as memory, _opened(path, None) as fts5:
        for number, q in enumerate(_queries(path, words)):
            kind = KINDS[number % len(KINDS)]
            for limit, offset in [(50, 0), (3, 2), (10, 10_000)]:
                params = {"q": q, "limit": limit, "offset": offset} | ({"kind": kind} if kind else {})
                ours, total = await _search(memory, **params)
                theirs, their_total = await _search(fts5, **params)
                assert total == their_total, params
                assert [{**hit, "snippet": ""} for hit in ours] == [
                    {**hit, "snippet": ""} for hit in theirs
                ], params
                terms = search_terms(q)
                for hit in ours:  # the snippet marks words the query asked for (its window may differ)
                    marked = [fold(word) for word in _MARKED.findall(hit["snippet"])]
                    assert marked and all(any(word.startswith(term) for term in terms) for word in marked), (
                        params,
                        hit["snippet"],
                    )
                cases += 1
    return cases


async def test_the_article_is_ranked_in_memory_as_fts5_ranks_it(sqlite_settings: Settings) -> None:
    cases = await _assert_ranked_as_fts5_ranks(sqlite_settings.sqlite_path, words=1)
    assert cases > 3_000  # every word of the article and the tests' fixture, and its prefixes


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's small corpus: 82 generated articles, ~10,000 facts, ~2,000 search entries."""
    return synthetic_settings_in(tmp_path_factory.mktemp("archive"), articles=82).sqlite_path


async def test_a_generated_archive_is_ranked_in_memory_as_fts5_ranks_it(archive: Path) -> None:
    """Many entries per word, long articles, names shared across articles: bm25's lengths and IDF matter."""
    assert await _assert_ranked_as_fts5_ranks(archive, words=9) > 1_000


def test_a_load_leaves_each_full_text_index_in_one_segment(archive: Path) -> None:
    """FTS5 would leave this archive's index in 8 segments (flushed every 1 MB, merged four at a time);
    the loader merges once, at the end, so that a search sets its query up in one place, not eight."""
    with sqlite3.connect(f"file:{archive}?mode=ro", uri=True) as db:
        for index in ("search_fts", "name_trigram"):
            structure = db.execute(f"SELECT block FROM {index}_data WHERE id = 10").fetchone()[0]
            levels, segments, *_ = varints(structure[4:])  # after a 4-byte cookie (fts5_index.c)
            assert segments == 1, (index, levels, segments)


async def test_kulazhanka_is_found_first_in_memory_and_his_words_are_marked(
    sqlite_settings: Settings,
) -> None:
    async with _opened(sqlite_settings.sqlite_path, SearchIndex(64 << 20)) as database:
        hits, total = await _search(database, q="kulazh")
        assert (hits[0]["kind"], hits[0]["id"]) == ("person", "pavel-kulazhanka")
        assert total == len(hits) > 3
        quote = next(hit for hit in hits if hit["id"] == "kulazhanka-independent-ukraine")
        assert "<mark>Kulazhanka</mark>" in quote["snippet"]


async def test_a_word_the_index_cannot_read_is_left_to_fts5(sqlite_settings: Settings) -> None:
    """FTS5's tokenizer splits `putin_` where Python's `\\w` does not: only FTS5 can say what it matches."""
    index = SearchIndex(64 << 20)
    assert not index.applies(["putin_"]) and index.applies(["putin", "2022"])
    async with _opened(sqlite_settings.sqlite_path, index) as database:
        assert (await _search(database, q="putin_"))[1] == (await _search(database, q="putin"))[1] > 3


SEARCHED = [
    "ukraine",
    "belarus",
    "kalinouski",
    "volunteers",
    "putin",
    "war",
    "u",
    "b",
    "pavel kulazhanka",
    "minsk region",
]


async def test_the_postings_kept_stay_within_their_budget(sqlite_settings: Settings) -> None:
    small = SearchIndex(max_bytes=4_000)
    large = SearchIndex(max_bytes=64 << 20)
    path = sqlite_settings.sqlite_path
    async with _opened(path, small) as bounded, _opened(path, large) as unbounded:
        for q in SEARCHED:
            assert await _search(bounded, q=q) == await _search(unbounded, q=q)
            assert 0 < small.kept_bytes <= 4_000
        assert large.kept_bytes > 4_000
        # What is kept is counted whole: each search keeps its matches' order with its first word's
        # postings, and the short entries' texts are kept where they take at most half the budget.
        for index in (small, large):
            assert index._kept is not None
            texts = index._kept.texts.nbytes if index._kept.texts is not None else 0
            assert index.kept_bytes == texts + sum(
                postings.nbytes for postings in index._kept.postings.values()
            )
        assert small._kept is not None and small._kept.texts is None
        assert large._kept is not None and large._kept.texts is not None
        terms = [search_terms(q) for q in SEARCHED]
        assert all(tuple(words) in large._kept.postings[words[0]].orders for words in terms)
        for postings in large._kept.postings.values():  # each order with its scores, headers, key and slot
            assert postings.orders_bytes >= sum(
                entries.nbytes + scores.nbytes + 400 for entries, scores in postings.orders.values()
            )


async def test_a_search_repeated_is_ranked_from_its_kept_order_as_fts5_ranks_it(
    sqlite_settings: Settings,
) -> None:
    """The second search of the same words, and every page after the first, reads the order the first
    one kept: the same hits, scores and totals as FTS5's, of the kinds asked for."""
    path = sqlite_settings.sqlite_path
    async with _opened(path, SearchIndex(64 << 20)) as memory, _opened(path, None) as fts5:
        for q in ["pavel kulazhanka", "belarus", "belarus ukraine", "ukrain bel", "war"]:
            for kind in [None, *KINDS[1:], None]:
                for limit, offset in [(5, 0), (5, 5), (50, 0)]:
                    params = {"q": q, "limit": limit, "offset": offset} | ({"kind": kind} if kind else {})
                    ours, theirs = await _search(memory, **params), await _search(fts5, **params)
                    assert [hit | {"snippet": ""} for hit in ours[0]] == [
                        hit | {"snippet": ""} for hit in theirs[0]
                    ], params
                    assert ours[1] == theirs[1], params
            assert theirs[1] > 5, q  # more than a page of 5 (of every kind)


async def test_a_new_dataset_is_ranked_from_its_own_postings(
    tmp_path: Path, sqlite_settings: Settings
) -> None:
    """The postings and lengths kept belong to the file they were read from: a new load drops them."""
    served = tmp_path / "served.db"
    shutil.copyfile(sqlite_settings.sqlite_path, served)
    synthetic = synthetic_settings_in(tmp_path / "small", 3).sqlite_path
    async with _opened(served, SearchIndex(64 << 20)) as database:
        article_hits, article_total = await _search(database, q="kulazhanka")
        assert article_total > 3 and article_hits[0]["id"] == "pavel-kulazhanka"
        shutil.copyfile(synthetic, tmp_path / "next.db")
        os.replace(tmp_path / "next.db", served)  # what the loader does
        await asyncio.sleep(0)  # the next turn of the event loop reads the new file
        assert await _search(database, q="kulazhanka") == ([], 0)
        async with _opened(served, None) as fts5:
            assert await _search(database, q="brigade") == await _search(fts5, q="brigade")


async def test_snippets_read_through_a_cache_of_their_own_are_the_same(archive: Path) -> None:
    """`SNIPPET_CACHE_MB`: search's snippets read the file attached a second time, with a page cache of
    its own. Every page, ranked in memory or by FTS5, is the same, snippets included, as through the
    connection's own cache."""
    for index in (SearchIndex(64 << 20), None):
        async with _opened(archive, index, 8) as own, _opened(archive, index) as shared:
            async with own.snapshot() as snapshot:
                rows = await snapshot.all("PRAGMA database_list")
                assert [(name, Path(file)) for _, name, file in rows] == [
                    ("main", archive),
                    ("snippets", archive),
                ]
                assert await snapshot.all("PRAGMA snippets.cache_size") == [(-8 * 1024,)]
            articles = 0
            for number, q in enumerate(_queries(archive, words=40)):
                kind = KINDS[number % len(KINDS)]
                params = {"q": q, "limit": 50} | ({"kind": kind} if kind else {})
                hits = await _search(own, **params)
                assert hits == await _search(shared, **params), params
                articles += sum(hit["kind"] == "article" for hit in hits[0])
            assert articles > 100
            async with own.snapshot() as snapshot:  # the articles' snippets are read through it alone
                await snapshot.all("DETACH DATABASE snippets")
            with pytest.raises(sqlite3.OperationalError, match=r"no such table: snippets\.search_fts"):
                await _search(own, q="war", kind="article")


async def test_the_snippets_cache_follows_a_new_load(tmp_path: Path, sqlite_settings: Settings) -> None:
    """The attachment is made with the connection, so a new file replaces both: no snippet is read from
    the file a load has replaced."""
    served = tmp_path / "served.db"
    shutil.copyfile(sqlite_settings.sqlite_path, served)
    synthetic = synthetic_settings_in(tmp_path / "small", 3).sqlite_path
    version = "SELECT value FROM {schema}.dataset WHERE key = 'version'"
    async with _opened(served, SearchIndex(64 << 20), 8) as database:
        assert (await _search(database, q="kulazhanka"))[0][0]["id"] == "pavel-kulazhanka"
        shutil.copyfile(synthetic, tmp_path / "next.db")
        os.replace(tmp_path / "next.db", served)  # what the loader does
        await asyncio.sleep(0)  # the next turn of the event loop reads the new file
        async with _opened(served, None) as fts5:
            assert await _search(database, q="brigade") == await _search(fts5, q="brigade")
        async with database.snapshot() as snapshot:
            new = await snapshot.all(version.format(schema="main"))
            assert new == await snapshot.all(version.format(schema="snippets"))
            assert new[0][0] == snapshot.info.version != (await _version_of(sqlite_settings.sqlite_path))


async def _version_of(path: Path) -> str:
    async with _opened(path, None) as database, database.snapshot() as snapshot:
        return snapshot.info.version


# -- PostgreSQL: the same bm25, from the words each load writes out of the `document` column -----------


def _bm25_from_documents(conninfo: str) -> Any:
    """A reference written from the `tsvector`s themselves, not from the tables the API reads: for a
    query, every match of PostgreSQL's own `@@` ranked with bm25 as FTS5 computes it (label 10, body 1)."""
    entries: dict[int, tuple[str, str, dict[str, float]]] = {}
    lengths: dict[int, int] = {}
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(
            "SELECT s.id, s.kind, s.entity_id, w.lexeme, cardinality(w.positions), "
            "cardinality(array_positions(w.weights, 'A')), cardinality(array_positions(w.weights, 'B')) "
            "FROM search_entry s, unnest(s.document) AS w"
        ).fetchall()
    for ident, kind, entity, lexeme, occurrences, in_label, in_body in rows:
        entries.setdefault(ident, (kind, entity, {}))[2][lexeme] = 10.0 * in_label + in_body
        lengths[ident] = lengths.get(ident, 0) + occurrences
    average = sum(lengths.values()) / len(lengths)

    def ranked(terms: list[str], kinds: set[str]) -> list[tuple[str, str, float]]:
        counts = [
            {
                ident: sum(n for lexeme, n in words.items() if lexeme.startswith(term))
                for ident, (_, _, words) in entries.items()
                if any(lexeme.startswith(term) for lexeme in words)
            }
            for term in terms
        ]
        scored = []
        for ident in set.intersection(*(set(found) for found in counts)):
            kind, entity, _ = entries[ident]
            if kinds and kind not in kinds:
                continue
            norm = K1 * (1 - B + B * lengths[ident] / average)
            score = 0.0
            for found in counts:
                idf = math.log((len(entries) - len(found) + 0.5) / (len(found) + 0.5))
                score += (idf if idf > 0 else 1e-6) * ((found[ident] * (K1 + 1.0)) / (found[ident] + norm))
            scored.append((-score * KIND_BOOST[kind], ident, kind, entity))
        return [(kind, entity, -score) for score, _, kind, entity in sorted(scored)]

    return ranked, sorted({lexeme for _, _, words in entries.values() for lexeme in words})


@pytest.mark.postgres
async def test_postgresql_ranks_its_own_matches_in_memory_with_bm25(postgres_settings: Settings) -> None:
    """Every plain word of the article's `tsvector`s, its prefixes and the names: the hits are the
    matches of PostgreSQL's `@@`, their order and scores the reference's, each snippet marks a word
    asked for."""
    conninfo = make_url(postgres_settings.database_url).set(drivername="postgresql")
    conninfo_text = conninfo.render_as_string(hide_password=False)
    ranked, lexemes = _bm25_from_documents(conninfo_text)
    plain = [lexeme for lexeme in lexemes if re.fullmatch(r"[a-z0-9]+", lexeme)]
    with psycopg.connect(conninfo_text) as connection:
        names = [n for (n,) in connection.execute("SELECT name FROM person UNION ALL SELECT name FROM unit")]
    prefixes = sorted({word[:length] for word in plain for length in (1, 2, 3)})
    cases = 0
    async for client in api_client(postgres_settings):
        for number, q in enumerate(plain + prefixes + names[:: max(1, len(names) // 30)]):
            kind = KINDS[number % len(KINDS)]
            terms = search_terms(q)
            expected = ranked(terms, set(kind.split(",")) if kind else set())
            for limit, offset in [(50, 0), (3, 2)]:
                params = {"q": q, "limit": limit, "offset": offset} | ({"kind": kind} if kind else {})
                body = (await client.get("/search", params=params)).json()
                assert body["total"] == len(expected), params
                page = expected[offset : offset + limit]
                assert [(hit["kind"], hit["id"]) for hit in body["items"]] == [h[:2] for h in page], params
                assert [hit["score"] for hit in body["items"]] == [round(h[2], 6) for h in page], params
                for hit in body["items"]:
                    marked = [fold(word) for word in _MARKED.findall(hit["snippet"])]
                    assert any(word.startswith(term) for word in marked for term in terms), (params, hit)
                cases += 1
        with psycopg.connect(conninfo_text) as connection:  # the matches are PostgreSQL's own
            for q in ["ukrain", "kalinou", "b", "putin", "belarus volunteer"]:
                tsquery = " & ".join(f"{term}:*" for term in search_terms(q))
                (matches,) = connection.execute(
                    "SELECT count(*) FROM search_entry WHERE document @@ to_tsquery('newsfacts', %s)",
                    [tsquery],
                ).fetchone() or (None,)
                body = (await client.get("/search", params={"q": q})).json()
                assert body["total"] == matches > 0, q
    assert cases > 1_500  # ~980 queries, two pages each


class _Dataset:
    """A dataset as PostgreSQL's statements read it: its search tables, behind a gate a test opens."""

    def __init__(self, words: dict[str, list[int]]) -> None:
        self.words = words
        self.entries = sorted({entry for entries in words.values() for entry in entries})
        self.gate = asyncio.Event()
        self.gate.set()

    def snapshot(self) -> Any:
        source = self

        class Snapshot:
            dialect = Dialect("postgresql")
            known_info = source

            async def dataset(self) -> _Dataset:
                return source

            async def all(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
                await source.gate.wait()
                if "search_length" in sql:
                    return [(_int4(source.entries), _int4([5] * len(source.entries)))]
                low, high = params
                return [
                    (word, _int4(entries), _int4([1] * len(entries)))
                    for word, entries in sorted(source.words.items())
                    if low <= word < high
                ]

        return Snapshot()


def _int4(values: list[int]) -> bytes:
    return b"".join(value.to_bytes(4, "big") for value in values)


async def test_requests_reading_two_datasets_at_once_each_rank_from_their_own() -> None:
    """On PostgreSQL a request's reads let others run: one still on the dataset before a load, one on
    the new. Neither ranks from the other's words, and none is kept under the other's name."""
    index = PostgresSearchIndex(1 << 20)
    before, after = _Dataset({"alpha": [8, 16], "beta": [24]}), _Dataset({"alpha": [32], "beta": [40]})
    before.gate.clear()  # the old dataset's reads wait until the new one has been searched
    old = asyncio.create_task(index.rank(before.snapshot(), ["alpha"], [], 10, 0))
    await asyncio.sleep(0)
    new = await index.rank(after.snapshot(), ["alpha"], [], 10, 0)
    before.gate.set()
    old_ranking = await old
    assert sorted(hit for hit, _ in old_ranking.hits) == [8, 16] and old_ranking.dataset is before
    assert [hit for hit, _ in new.hits] == [32] and new.dataset is after
    again = await index.rank(after.snapshot(), ["alpha"], [], 10, 0)  # from what is kept now
    assert [hit for hit, _ in again.hits] == [32]
    assert await index.stale(after.snapshot(), again) is False
    assert await index.stale(after.snapshot(), old_ranking) is True


@pytest.mark.postgres
async def test_postgresql_without_its_words_ranks_the_same_matches_with_ts_rank_cd(
    postgres_settings: Settings,
) -> None:
    """`SEARCH_INDEX_MB=0`, and a word that is not plain (`putin_`), leave ranking to `ts_rank_cd`: the
    same matches, in its own order."""
    off = postgres_settings.model_copy(update={"search_index_mb": 0})
    asked = ["kulazh", "ukrain", "belarus volunteer", "putin", "putin_"]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for ranker, settings in (("memory", postgres_settings), ("database", off)):
        async for client in api_client(settings):
            for q in asked:
                found[ranker, q] = (await client.get("/search", params={"q": q, "limit": 100})).json()
    for q in asked:
        ours, theirs = found["memory", q], found["database", q]
        assert ours["total"] == theirs["total"] == len(ours["items"]) > 0, q
        assert sorted(map(_kind_and_id, ours["items"])) == sorted(map(_kind_and_id, theirs["items"])), q
    assert found["memory", "kulazh"]["items"][0]["id"] == found["database", "kulazh"]["items"][0]["id"]
    assert found["memory", "kulazh"]["items"][0]["id"] == "pavel-kulazhanka"
    assert found["memory", "putin_"] == found["database", "putin_"]  # ts_rank_cd's either way
    assert found["memory", "putin_"]["total"] == found["memory", "putin"]["total"]


def _kind_and_id(hit: dict[str, Any]) -> tuple[str, str]:
    return hit["kind"], hit["id"]
