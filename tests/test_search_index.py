"""Search on SQLite ranks in memory (`app.search_index`) exactly as FTS5 ranks in the database."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from app import queries
from app.database import SqliteDatabase
from app.dialects import search_terms
from app.folding import fold
from app.params import SearchParams
from app.search_index import SearchIndex, varints
from app.settings import Settings
from tests.conftest import synthetic_settings_in

pytestmark = pytest.mark.anyio
KINDS = [None, "person", "quote", "unit,place,event", "article,figure"]
_MARKED = re.compile(r"<mark>(.*?)</mark>")


@asynccontextmanager
async def _opened(path: Path, index: SearchIndex | None) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(path, timeout=30, search_index=index)
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
    import sqlite3

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
    import sqlite3

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


async def test_the_postings_kept_stay_within_their_budget(sqlite_settings: Settings) -> None:
    small = SearchIndex(max_bytes=4_000)
    large = SearchIndex(max_bytes=64 << 20)
    path = sqlite_settings.sqlite_path
    async with _opened(path, small) as bounded, _opened(path, large) as unbounded:
        for q in ["ukraine", "belarus", "kalinouski", "volunteers", "putin", "minsk", "war", "u", "b"]:
            assert await _search(bounded, q=q) == await _search(unbounded, q=q)
            assert 0 < small.kept_bytes <= 4_000
        assert large.kept_bytes > 4_000


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
