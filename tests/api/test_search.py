"""GET /search: ranked, across every kind, with highlighted snippets."""

import httpx
import pytest

from tests.conftest import items

pytestmark = pytest.mark.anyio


async def test_search_ranks_the_named_record_first_and_marks_the_words(client: httpx.AsyncClient) -> None:
    hits = items(await client.get("/search", params={"q": "kulazhanka"}))
    assert hits[0]["kind"] == "person" and hits[0]["id"] == "pavel-kulazhanka"
    assert all("<mark>" in hit["snippet"] for hit in hits)
    assert {(h["kind"], h["id"]) for h in hits} >= {
        ("quote", "kulazhanka-independent-ukraine"),
        ("article", "belarusian-russian-volunteers-ukraine-2022"),
    }
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


async def test_search_ignores_accents_and_matches_prefixes(client: httpx.AsyncClient) -> None:
    plain = {(h["kind"], h["id"]) for h in items(await client.get("/search", params={"q": "kalinouski"}))}
    accented = {(h["kind"], h["id"]) for h in items(await client.get("/search", params={"q": "Kalinoŭski"}))}
    assert ("unit", "kastus-kalinouski-battalion") in plain
    assert plain == accented
    prefix = items(await client.get("/search", params={"q": "kalin", "kind": "person"}))
    assert prefix[0]["id"] == "kastus-kalinouski"
    assert prefix[0]["snippet"].startswith("Kastus <mark>Kalinouski</mark>")


async def test_kind_narrows_the_search(client: httpx.AsyncClient) -> None:
    hits = items(await client.get("/search", params={"q": "belarus", "kind": "quote"}))
    assert {h["kind"] for h in hits} == {"quote"}
    assert "kulazhanka-first-stop" in {h["id"] for h in hits}


@pytest.mark.parametrize(
    "q", ["NEAR(", '"unbalanced', "putin*", "putin OR", "-putin", "putin AND NOT", "'; DROP TABLE person; --"]
)
async def test_search_syntax_in_the_query_is_plain_text(client: httpx.AsyncClient, q: str) -> None:
    response = await client.get("/search", params={"q": q})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == len(body["items"]) or body["next"] is not None


async def test_query_without_words_finds_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/search", params={"q": "***"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0, "next": None}


async def test_search_pages_by_offset(client: httpx.AsyncClient) -> None:
    first = (await client.get("/search", params={"q": "putin", "limit": 3})).json()
    assert first["total"] > 3
    assert "offset=3" in first["next"]
    second = (await client.get(first["next"])).json()
    seen = [(h["kind"], h["id"]) for h in first["items"] + second["items"]]
    assert len(seen) == len(set(seen))


async def test_a_page_past_the_last_hit_is_empty_and_still_counts_them(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/search", params={"q": "putin", "limit": 500})).json()
    total = everything["total"]
    assert total == len(everything["items"]) > 3
    past = (await client.get("/search", params={"q": "putin", "offset": total + 10})).json()
    assert past["items"] == [] and past["total"] == total and past["next"] is None
    last = (await client.get("/search", params={"q": "putin", "offset": total - 2, "limit": 5})).json()
    assert last["items"] == everything["items"][-2:] and last["total"] == total
    assert all("<mark>" in hit["snippet"] for hit in last["items"])
    nothing = (await client.get("/search", params={"q": "zzyzxnotaword"})).json()
    assert nothing["items"] == [] and nothing["total"] == 0
