"""A short entry gets its snippet from Python (`app.snippets`): the same bytes FTS5's `snippet()` gives,
or FTS5's own where a text is not plain ASCII; a long one gets FTS5's."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app import queries, snippets
from app.database import SqliteDatabase
from app.dialects import search_terms
from app.search_index import SearchIndex
from app.search_kinds import SEARCH_KIND_CODES
from app.settings import Settings
from tests.conftest import synthetic_settings_in

WORDS = [
    "war",
    "warsaw",
    "wall",
    "people",
    "peoples",
    "peace",
    "pie",
    "kyiv",
    "2022",
    "20",
    "a",
    "ab",
    "b12",
    "minsk",
]
TERMS = sorted({word[:length] for word in WORDS for length in (1, 2, 3, 6)})
SEPARATORS = [" ", ", ", ". ", ".\n", ":  ", " “", "” ", "’", "…", " — ", "–", "«", "»", "-", "'", "_", "\t"]


def fts5_snippet(terms: list[str], label: str, body: str) -> str | None:
    """FTS5's snippet of one entry, asked for as the app asks: the words it holds that start with each
    term (`SearchIndex._snippet_query`); None if the entry does not hold them all."""
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(label, body, tokenize='unicode61 remove_diacritics 2')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
        db.execute("INSERT INTO t VALUES (?, ?)", (label, body))
        vocabulary = [word for (word,) in db.execute("SELECT term FROM v")]
        phrases = [[word for word in vocabulary if word.startswith(term)] for term in terms]
        if not all(phrases):
            return None
        query = " AND ".join("(" + " OR ".join(f'"{word}"' for word in words) + ")" for words in phrases)
        row = db.execute(
            "SELECT snippet(t, -1, '<mark>', '</mark>', '…', 24) FROM t WHERE t MATCH ?", (query,)
        ).fetchone()
        return str(row[0])


def short_texts() -> st.SearchStrategy[str]:
    """Up to 24 tokens, in any case, between any of the separators a quote holds."""
    token = (
        st.sampled_from(WORDS).map(str.upper) | st.sampled_from(WORDS) | st.sampled_from(WORDS).map(str.title)
    )
    return st.lists(st.tuples(st.sampled_from(SEPARATORS), token), max_size=24).map(
        lambda parts: "".join(separator + word for separator, word in parts)
    ) | st.just("")


@settings(max_examples=600, deadline=None)
@given(
    terms=st.lists(st.sampled_from(TERMS), min_size=1, max_size=3),
    label=short_texts(),
    body=short_texts(),
    end=st.sampled_from(["", ".", "…”", " "]),
)
@example(
    terms=["p", "peo"], label="people", body="peace pie", end=""
)  # a word under two terms is two phrases
@example(terms=["war"], label="War", body="war, war", end=".")  # a further occurrence counts 1
@example(terms=["wa", "2"], label="", body="Warsaw 2022 war", end="…”")  # adjacent occurrences, marked apart
def test_a_short_entry_gets_fts5s_snippet_byte_for_byte(
    terms: list[str], label: str, body: str, end: str
) -> None:
    theirs = fts5_snippet(terms, label, body + end)
    if theirs is not None:
        assert snippets.snippet(terms, label, body + end) == theirs


@pytest.mark.parametrize(
    ("label", "body"),
    [
        (
            "Stas Kalinoŭski",
            "on the war",
        ),  # a letter with a diacritic: FTS5 folds it, and says where the words are
        ("Пётр", "war"),
        ("war", "naïve war"),
        ("war", "ｗａｒ"),  # full-width letters are letters to FTS5
    ],
)
def test_a_text_with_letters_beyond_ascii_is_left_to_fts5(label: str, body: str) -> None:
    assert snippets.snippet(["war"], label, body) is None


def test_typographic_punctuation_is_plain_and_kept_as_it_is() -> None:
    label = "Pavel Kulazhanka: “Without an independent Ukraine…”"
    body = "Without an independent Ukraine, there will be no independent Belarus — he said."
    made = snippets.snippet(["independent", "ukrain"], label, body)
    assert made == fts5_snippet(["independent", "ukrain"], label, body)
    assert made == (  # the body: both words, and one of them twice
        "Without an <mark>independent</mark> <mark>Ukraine</mark>, there will be no "
        "<mark>independent</mark> Belarus — he said."
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's small corpus: 82 generated articles, ~10,000 facts, ~2,000 search entries."""
    return synthetic_settings_in(tmp_path_factory.mktemp("archive"), articles=82).sqlite_path


@asynccontextmanager
async def _opened(path: Path, budget: int = 64 << 20) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(path, timeout=30, search_index=SearchIndex(budget))
    await database.open()
    yield database
    await database.close()


def _words(path: Path, count: int) -> list[str]:
    """The `count` words in most entries, prefixes of the 60 commonest, and people's names."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, search_fts, row)")
        words = [term for (term,) in db.execute("SELECT term FROM temp.v ORDER BY doc DESC, term")]
        names = [name for (name,) in db.execute("SELECT name FROM person ORDER BY id LIMIT 40")]
    return words[:count] + [word[:2] for word in words[:60]] + names


async def _compare_with_fts5s(path: Path, count: int, budget: int = 64 << 20) -> tuple[int, int, set[bool]]:
    """Each search's first page as served — a short entry's snippet made by Python where its texts are
    plain — and with FTS5 making every snippet: the same bytes. Returns how many short entries the pages
    held, how many of them have a text that is not plain (whose snippet FTS5 made all the same), and
    whether their texts came from memory (`ShortTexts`) or the file: {True}, {False}, or both."""
    short = not_plain = 0
    from_memory: set[bool] = set()
    async with _opened(path, budget) as database, database.snapshot() as snapshot:
        index = snapshot.search_index
        assert index is not None
        for q in _words(path, count):
            terms = search_terms(q)
            if not index.applies(terms):
                continue
            ranking = await index.rank(snapshot, terms, [], 50, 0)
            served = await queries.page_entries(snapshot, terms, ranking)
            assert served == await queries._entries_and_snippets(
                snapshot, ranking.snippet_query, ranking.hits
            ), q
            short += len(ranking.short)
            not_plain += sum(not _plain_entry(path, ident) for ident in ranking.short)
            if ranking.short:
                from_memory.add(ranking.short_texts is not None)
    return short, not_plain, from_memory


def _plain_entry(path: Path, ident: int) -> bool:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        label, body = db.execute("SELECT label, body FROM search_entry WHERE id = ?", (ident,)).fetchone()
    return snippets.plain(label) and snippets.plain(body)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("budget", "in_memory"), [(64 << 20, True), (256 << 10, False)], ids=["texts-kept", "texts-not-fitting"]
)
async def test_a_generated_archives_pages_are_fts5s(archive: Path, budget: int, in_memory: bool) -> None:
    """With the short entries' texts kept in memory, and with them read from the file (where they would
    take more than half of `SEARCH_INDEX_MB`: 337 kB here)."""
    short, _, from_memory = await _compare_with_fts5s(archive, 400, budget)
    assert short > 5_000  # the comparison is not empty
    assert from_memory == {in_memory}


@pytest.mark.anyio
async def test_a_text_holding_the_separator_leaves_the_short_entries_to_the_file(
    archive: Path, tmp_path: Path
) -> None:
    """The texts kept are records of three fields joined by U+001F: where a text holds that character
    itself, none is kept, and the pages are the same."""
    path = tmp_path / "separator.db"
    shutil.copyfile(archive, path)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE search_entry SET body = body || char(31) "
            "WHERE id = (SELECT min(id) FROM search_entry WHERE kind = 'quote')"
        )
    short, _, from_memory = await _compare_with_fts5s(path, 400)
    assert short > 5_000 and from_memory == {False}


@pytest.mark.anyio
async def test_the_articles_pages_are_fts5s(sqlite_settings: Settings) -> None:
    """Its texts hold letters beyond ASCII (Kalinoŭski, Łukašenka): those entries are left to FTS5."""
    short, not_plain, from_memory = await _compare_with_fts5s(sqlite_settings.sqlite_path, count=1_000)
    assert short > 1_000 and not_plain > 50 and from_memory == {True}


@pytest.mark.anyio
async def test_a_short_entrys_snippet_is_made_here_a_long_ones_by_fts5(archive: Path) -> None:
    async with _opened(archive) as database, database.snapshot() as snapshot:
        index = snapshot.search_index
        assert index is not None
        quotes, articles = [SEARCH_KIND_CODES["quote"]], [SEARCH_KIND_CODES["article"]]
        common = await index.rank(snapshot, ["the"], quotes, 50, 0)  # short entries
        assert len(common.hits) == 50 and common.short == sorted(ident for ident, _ in common.hits)
        long = await index.rank(snapshot, ["the"], articles, 50, 0)  # an article is long
        assert len(long.hits) == 50 and long.short == []
        marked = re.findall(
            r"<mark>(\w+)</mark>",
            (await queries.page_entries(snapshot, ["the"], common))[common.hits[0][0]][3],
        )
        assert marked and all(word.lower() == "the" for word in marked)
