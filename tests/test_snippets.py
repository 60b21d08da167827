"""A page of short entries spread over many matches gets its snippets from Python (`app.snippets`): the
same bytes FTS5's `snippet()` gives, or FTS5's own where a text is not plain ASCII."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app import queries, search_index, snippets
from app.database import SqliteDatabase
from app.dialects import search_terms
from app.params import SearchParams
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
async def _opened(path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(path, timeout=30, search_index=SearchIndex(64 << 20))
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


async def _pages_made_here(path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> int:
    """Each search's first page with Python making the snippets of every page of short entries it can,
    and with FTS5 making them all: the same bytes. Returns the pages made here."""
    made_here = 0
    async with _opened(path) as database:
        for q in _words(path, count):
            pages = []
            for threshold in (0, 10**9):
                monkeypatch.setattr(search_index, "SNIPPETS_HERE_FROM", threshold)
                async with database.snapshot() as snapshot:
                    page = await queries.search(snapshot, SearchParams(q=q), "json")
                    index = snapshot.search_index
                    assert index is not None
                    made_here += (await index.rank(snapshot, search_terms(q), [], 50, 0)).snippets_here
                pages.append((page.docs, page.total))
            assert pages[0] == pages[1], q
    return made_here


@pytest.mark.anyio
async def test_a_generated_archives_pages_are_fts5s_made_here_or_not(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _pages_made_here(archive, monkeypatch, count=400) > 150  # the comparison is not empty


@pytest.mark.anyio
async def test_the_articles_pages_are_fts5s_made_here_or_not(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its texts hold letters beyond ASCII (Kalinoŭski, Łukašenka): those pages are left to FTS5."""
    assert await _pages_made_here(sqlite_settings.sqlite_path, monkeypatch, count=1_000) > 20


@pytest.mark.anyio
async def test_only_a_page_of_short_entries_spread_over_many_matches_is_made_here(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "SNIPPETS_HERE_FROM", 500)
    async with _opened(archive) as database, database.snapshot() as snapshot:
        index = snapshot.search_index
        assert index is not None
        quotes, articles = [SEARCH_KIND_CODES["quote"]], [SEARCH_KIND_CODES["article"]]
        common = await index.rank(snapshot, ["the"], quotes, 50, 0)  # short entries
        assert common.total > 500 and common.snippets_here
        rare = await index.rank(snapshot, ["volunteers"], quotes, 50, 0)
        assert rare.total < 500 and not rare.snippets_here
        long = await index.rank(snapshot, ["the"], articles, 50, 0)  # an article is long
        assert long.total > 50 and not long.snippets_here
        marked = re.findall(
            r"<mark>(\w+)</mark>",
            (await queries.page_entries(snapshot, ["the"], common))[common.hits[0][0]][3],
        )
        assert marked and all(word.lower() == "the" for word in marked)
