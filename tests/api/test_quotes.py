"""GET /quotes: who said what, to whom, where — verbatim, and anchored in the text."""

import httpx
import pytest

from tests.conftest import ARTICLE_TEXT, ids, items

pytestmark = pytest.mark.anyio


async def test_quotes_by_speaker_in_text_order(client: httpx.AsyncClient) -> None:
    quotes = items(await client.get("/quotes", params={"speaker": "pavel-kulazhanka"}))
    assert [q["text"] for q in quotes] == [
        "Without an independent Ukraine, there will be no independent Belarus",
        "Ukraine is my first stop. The second stop will be Belarus.",
    ]
    first, second = quotes
    assert first["speaker"] == {"id": "pavel-kulazhanka", "name": "Pavel Kulazhanka"}
    assert first["medium"] == "an interview with the US Wall Street Journal"
    assert first["outlet"] == {"id": "wall-street-journal", "name": "The Wall Street Journal"}
    assert second["addressee"] == "Putin and Lukashenko"
    assert [a["id"] for a in second["addressees"]] == ["vladimir-putin", "alexander-lukashenko"]


async def test_quote_offsets_slice_the_article_to_the_quote(client: httpx.AsyncClient) -> None:
    for quote in items(
        await client.get("/quotes", params={"article": "belarusian-russian-volunteers-ukraine-2022"})
    ):
        assert ARTICLE_TEXT[quote["start"] : quote["end"]] == quote["text"]
        own = [e for e in quote["evidence"] if e["field"] == "quote"]
        assert [(e["start"], e["end"]) for e in own] == [(quote["start"], quote["end"])]


async def test_anonymous_quotes_describe_their_speaker(client: httpx.AsyncClient) -> None:
    quotes = items(
        await client.get(
            "/quotes", params={"anonymous": "true", "article": "belarusian-russian-volunteers-ukraine-2022"}
        )
    )
    assert [q["id"] for q in quotes] == [
        "oppositionist-presence-of-russian-soldiers",
        "sergeant-tricked-into-war",
        "sergeant-legion-created",
    ]
    oppositionist = quotes[0]
    assert oppositionist["speaker_description"].startswith(
        "one of the prominent opposition figures in Moscow"
    )
    assert oppositionist["addressee"] == "the “Journal” (The Wall Street Journal)"


async def test_the_headline_quote_is_attributed_as_inferred(client: httpx.AsyncClient) -> None:
    quote = (await client.get("/quotes/von-der-leyen-cruel-face")).json()
    assert quote["text"] == "The cruel face of Putin’s army"
    assert quote["speaker"]["id"] == "ursula-von-der-leyen"
    assert quote["certainty"] == "inferred"
    assert quote["event"] == {"id": "von-der-leyen-in-bucha", "name": "Von der Leyen in Bucha"}


async def test_unit_filter_finds_quotes_by_the_units_members(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/quotes", params={"unit": "kastus-kalinouski-battalion"})) == [
        "kulazhanka-independent-ukraine",
        "kulazhanka-first-stop",
    ]
    assert ids(await client.get("/quotes", params={"unit": "freedom-for-russia-legion"})) == [
        "sergeant-tricked-into-war",
        "sergeant-legion-created",
    ]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("independent belarus", ["kulazhanka-independent-ukraine", "viacorka-existence-of-belarus"]),
        ("TRICKED", ["sergeant-tricked-into-war"]),
        ("putinists", ["ponomarev-many-thousands"]),
        ("atrocit", ["oppositionist-presence-of-russian-soldiers"]),
    ],
)
async def test_q_finds_words_of_the_quote_text(
    client: httpx.AsyncClient, q: str, expected: list[str]
) -> None:
    assert ids(await client.get("/quotes", params={"q": q})) == expected


async def test_q_does_not_match_the_speakers_name(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/quotes", params={"q": "kulazhanka"})) == []
