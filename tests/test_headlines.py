"""On PostgreSQL a search page's entries get their headlines from Python (`app.headlines`): the same
bytes as PostgreSQL's `ts_headline`, or PostgreSQL's own where a text is not one the module reads as
PostgreSQL's parser does (such an entry is then left to PostgreSQL for as long as its dataset is served)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app import headlines, queries
from app.database import PostgresDatabase, Snapshot
from app.dialects import _HEADLINE, search_terms
from app.loader import load
from app.search_index import PostgresSearchIndex
from app.settings import Settings, load_settings
from bench.corpus import generate
from tests.conftest import fresh_schema, postgres_or_skip

WORDS = ["war", "warm", "ward", "a", "an", "the", "of", "Ukraine", "ukrainian", "Kyiv", "be", "battalion"]
WORDS += ["volunteer", "volunteers", "to", "it", "is", "1863", "2014", "5th", "M4", "x", "freedom", "zz"]
SEPARATORS = [" ", " ", " ", ", ", ". ", ": “", "” ", "…", " (", ") ", "! ", "? ", "; ", " — ", "–", "’", "'"]
SEPARATORS += ['"', " «", "» ", "\n"]
FOREIGN = ["-", ".", "/", "@", "_", "&", "<b>", "\t", "é", "д", "1e5", ".5", "a.b", "+", "#", "%", "="]


def _postgres_headlines(cases: list[tuple[list[str], str, str]]) -> list[str]:
    """PostgreSQL's headline of each (terms, label, body), as the app asks for a page's: one statement."""
    conninfo = make_url(postgres_or_skip()).set(drivername="postgresql").render_as_string(hide_password=False)
    headline = _HEADLINE.format(query="to_tsquery('newsfacts', s.query)")
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(
            f"SELECT {headline} FROM unnest(%s::text[], %s::text[], %s::text[]) "
            "WITH ORDINALITY AS s(label, body, query, n) ORDER BY s.n",
            [
                [label for _, label, _ in cases],
                [body for _, _, body in cases],
                [" & ".join(f"{term}:*" for term in terms) for terms, _, _ in cases],
            ],
        ).fetchall()
    return [str(row[0]) for row in rows]


def _generated(seed: int, count: int, longest: int, foreign: float = 0.0) -> list[tuple[list[str], str, str]]:
    """Texts of the article's kind of words and punctuation (`foreign`: the share of separators PostgreSQL
    reads otherwise), with one to three terms, most of them prefixes of the text's words."""
    rng = random.Random(seed)

    def text(words: int) -> str:
        parts = [rng.choice(SEPARATORS)] if rng.random() < 0.3 else []
        for _ in range(words):
            word = rng.choice(WORDS) if rng.random() < 0.8 else "".join(rng.choices("abcdefghijklmnop", k=9))
            separator = rng.choice(FOREIGN) if rng.random() < foreign else rng.choice(SEPARATORS)
            parts += (word[: rng.randint(1, len(word))] if rng.random() < 0.1 else word, separator)
        return "".join(parts[:-1] if parts and rng.random() < 0.5 else parts)

    cases = []
    for _ in range(count):
        label, body = text(rng.randint(1, 12)), text(rng.randint(0, longest))
        words = re.findall(r"[a-z0-9]+", f"{label} {body}".lower()) or ["war"]
        terms = []
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            word = rng.choice(words) if rng.random() < 0.95 else rng.choice(["war", "qqq"])
            terms.append(word[: rng.randint(1, len(word))])
        cases.append((terms, label, body))
    return cases


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("seed", "longest", "foreign", "made_here"),
    [
        (1, 40, 0.0, 0.9),  # a quote's length
        (2, 400, 0.0, 0.9),  # longer than a fragment, and than a cover may be (150 words)
        (3, 40, 0.05, 0.2),  # with characters PostgreSQL's parser reads otherwise: left to it
    ],
)
def test_a_headline_made_here_is_postgresqls_byte_for_byte(
    seed: int, longest: int, foreign: float, made_here: float
) -> None:
    cases = _generated(seed, 3_000, longest, foreign)
    theirs = _postgres_headlines(cases)
    ours = [headlines.headline(terms, label, body) for terms, label, body in cases]
    assert [mine for mine, their in zip(ours, theirs, strict=True) if mine not in (None, their)] == []
    assert sum(mine is not None for mine in ours) > made_here * len(cases)  # the comparison is not empty


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("terms", "label", "body", "expected"),
    [
        (  # MaxWords=30: half the words left on the term's left, the rest on its right; an end is
            # pulled back off a number or a word of three letters or fewer (`2022`, `in`, `now`)
            ["kyiv"],
            "Ilya Ponomarev: “I know that many thousands…”",
            "I know that many thousands of people in Russia would like to join the fight, but it is hard "
            "for them to get to Kyiv because of the war and the borders of Belarus and Ukraine, now in 2022.",
            "like to join the fight, but it is hard for them to get to <mark>Kyiv</mark> because of the war "
            "and the borders of Belarus and Ukraine",
        ),
        (  # every occurrence of a term in the window is marked, each word on its own
            ["volunteer", "ukrain"],
            "Belarusian volunteers",
            "Belarusian volunteers fight for Ukraine; the Ukrainians welcome the volunteers.",
            "Belarusian <mark>volunteers</mark>\nBelarusian <mark>volunteers</mark> fight for "
            "<mark>Ukraine</mark>; the <mark>Ukrainians</mark> welcome the <mark>volunteers</mark>",
        ),
        (  # no span holds every term: the text up to its 12th word, the terms it holds marked
            ["kyiv", "minsk"],
            "Kyiv",
            "one two three four five six seven eight nine ten eleven twelve thirteen",
            "<mark>Kyiv</mark>\none two three four five six seven eight nine ten eleven",
        ),
    ],
)
def test_headlines_are_windows_of_the_text_with_the_terms_marked(
    terms: list[str], label: str, body: str, expected: str
) -> None:
    assert headlines.headline(terms, label, body) == expected
    assert _postgres_headlines([(terms, label, body)]) == [expected]


@pytest.mark.parametrize(
    ("terms", "label", "body"),
    [
        (["kalin"], "Kastus Kalinoŭski", "the 1863 uprising"),  # another script: `unaccent`
        (["war"], "pro-Ukrainian", "the war"),  # a hyphenated word: three more tokens
        (["war"], "kyiv.ua", "the war"),  # a host
        (["war"], "3.5 million", "the war"),  # a decimal number
        (["war"], "1e5 people", "the war"),  # scientific notation
        (["war"], "a/b", "the war"),  # a path
        (["war", "warsaw"], "Warsaw", "war"),  # a word two terms match: PostgreSQL repeats it
        (["war", "war"], "War", "the war"),  # … as it does a term asked for twice
    ],
)
def test_a_text_postgresql_reads_otherwise_is_left_to_it(terms: list[str], label: str, body: str) -> None:
    assert headlines.headline(terms, label, body) is None


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The benchmark's small corpus (82 generated articles, ~2,000 search entries) in PostgreSQL."""
    folder = tmp_path_factory.mktemp("archive")
    with fresh_schema() as url:
        settings = load_settings(
            database_url=url, seeds_dir=generate(folder / "seeds", 82), log_level="warning"
        )
        load(settings)
        yield settings


@asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[Snapshot]:
    database = PostgresDatabase(settings.database_url, 30, 2, search_index=PostgresSearchIndex(64 << 20))
    await database.open()
    try:
        async with database.snapshot() as snapshot:
            yield snapshot
    finally:
        await database.close()


async def _compare_with_postgresqls(settings: Settings, words: list[str]) -> tuple[int, int]:
    """Each search's first page as served, twice, and with PostgreSQL making every headline: the same
    entries and bytes. Returns how many entries the pages held, and how many of them PostgreSQL made all
    the same (their texts are not the module's); the second time, those come in the page's statement."""
    entries = declined = 0
    async with _opened(settings) as snapshot:
        index = snapshot.search_index
        assert index is not None
        for q in words:
            terms = search_terms(q)
            ranking = await index.rank(snapshot, terms, [], 50, 0)
            theirs = await queries._entries_and_snippets(snapshot, ranking.snippet_query, ranking.hits)
            assert await queries.page_entries(snapshot, terms, ranking) == theirs, q
            again = await index.rank(snapshot, terms, [], 50, 0)  # those declined are known now
            assert await queries.page_entries(snapshot, terms, again) == theirs, q
            entries += len(ranking.hits)
            declined += len(ranking.short) - len(again.short)
    return entries, declined


def _words(settings: Settings, count: int) -> list[str]:
    """The `count` commonest words of the entries, prefixes of the 60 commonest, and people's names."""
    conninfo = (
        make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with psycopg.connect(conninfo) as connection:
        common = [
            word
            for (word,) in connection.execute(
                "SELECT word FROM ts_stat('SELECT document FROM search_entry') "
                "WHERE word ~ '^[a-z0-9]+$' ORDER BY ndoc DESC, word LIMIT %s",
                [count],
            )
        ]
        names = [name for (name,) in connection.execute("SELECT name FROM person ORDER BY id LIMIT 40")]
    return common + [word[:2] for word in common[:60]] + names


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_generated_archives_pages_are_postgresqls(archive: Settings) -> None:
    """Its texts, articles included, are all the module's."""
    entries, declined = await _compare_with_postgresqls(archive, _words(archive, 300))
    assert entries > 10_000 and declined == 0


@pytest.mark.postgres
@pytest.mark.anyio
async def test_the_articles_pages_are_postgresqls(postgres_settings: Settings) -> None:
    """Its texts hold letters beyond ASCII (Kalinoŭski, Łukašenka) and hyphens: PostgreSQL makes those,
    the article's own text among them."""
    entries, declined = await _compare_with_postgresqls(postgres_settings, _words(postgres_settings, 1_000))
    assert entries > 1_000 and declined > 20


@pytest.mark.postgres
@pytest.mark.anyio
async def test_an_entry_declined_is_left_to_postgresql_for_that_dataset_only(
    postgres_settings: Settings,
) -> None:
    async with _opened(postgres_settings) as snapshot:
        index = snapshot.search_index
        assert isinstance(index, PostgresSearchIndex)
        first = await index.rank(snapshot, ["kalinou"], [], 50, 0)  # a name spelt beyond ASCII
        await queries.page_entries(snapshot, ["kalinou"], first)
        again = await index.rank(snapshot, ["kalinou"], [], 50, 0)
        assert set(again.short) < set(first.short) == {hit for hit, _ in first.hits}
        index._kept = None  # as when a load's new dataset is read: every entry is tried again
        anew = await index.rank(snapshot, ["kalinou"], [], 50, 0)
        assert anew.short == first.short
