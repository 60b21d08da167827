"""GET /people and /people/{id}: who is in the story, under any spelling of their name."""

import httpx
import pytest

from tests.conftest import ARTICLE, ARTICLE_TEXT, ids, items

pytestmark = pytest.mark.anyio


async def test_person_carries_stated_age_nationality_unit_and_evidence(client: httpx.AsyncClient) -> None:
    person = (await client.get("/people/pavel-kulazhanka")).json()
    assert person["name"] == "Pavel Kulazhanka"
    assert person["age"] == 36
    assert person["nationality"] == "belarusian"
    assert [(u["id"], u["role"], u["since"]) for u in person["units"]] == [
        ("kastus-kalinouski-battalion", "member", "for several weeks")
    ]
    age_evidence = [e for e in person["evidence"] if e["field"] == "age"]
    assert [e["text"] for e in age_evidence] == ["Pavel Kulazhanka (36)"]
    for item in person["evidence"]:
        assert ARTICLE_TEXT[item["start"] : item["end"]] == item["text"]


async def test_inferred_nationality_is_marked_with_its_reason(client: httpx.AsyncClient) -> None:
    person = (await client.get("/people/pavel-kulazhanka")).json()
    (inferred,) = [i for i in person["inferred"] if i["field"] == "nationality"]
    assert "second stop" in inferred["note"]
    ponomarev = (await client.get("/people/ilya-ponomarev")).json()
    assert ponomarev["nationality"] == "russian"
    assert not [i for i in ponomarev["inferred"] if i["field"] == "nationality"]


async def test_adviser_is_a_relation_between_people_not_a_membership(client: httpx.AsyncClient) -> None:
    viacorka = (await client.get("/people/franak-viacorka")).json()
    assert viacorka["units"] == []
    assert [(r["id"], r["role"]) for r in viacorka["relations"]] == [("svetlana-tichanovskaya", "adviser")]


async def test_person_in_two_articles_is_one_record_with_each_articles_statements(
    client: httpx.AsyncClient,
) -> None:
    putin = (await client.get("/people/vladimir-putin")).json()
    assert putin["articles"] == [ARTICLE, "test-fixture-article"]
    assert [(a["article"], a["age"]) for a in putin["ages"]] == [(ARTICLE, 69), ("test-fixture-article", 70)]
    assert putin["age"] == 70  # from the latest article
    alias_names = {a["name"] for a in putin["aliases"]}
    assert {"Putin", "Wladimir Putin", "Wladimir Wladimirowitsch Putin"} <= alias_names
    assert {e["article"] for e in putin["evidence"]} == {ARTICLE, "test-fixture-article"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kulazhanka", "pavel-kulazhanka"),
        ("KULAZHANKA", "pavel-kulazhanka"),
        ("tsikhanouskaya", "svetlana-tichanovskaya"),
        ("Tikhanovskaya", "svetlana-tichanovskaya"),
        ("viačorka", "franak-viacorka"),
        ("viacorka", "franak-viacorka"),
        ("Лукашенко", "alexander-lukashenko"),
        ("lukashenka", "alexander-lukashenko"),
        ("ponomaryov", "ilya-ponomarev"),
        ("julie fisher", "julie-fischer"),
        ("herbert frahm", "willy-brandt"),
    ],
)
async def test_name_filter_matches_case_accents_and_transliterated_aliases(
    client: httpx.AsyncClient, query: str, expected: str
) -> None:
    assert ids(await client.get("/people", params={"name": query})) == [expected]


async def test_name_filter_is_partial(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/people", params={"name": "kalinou"})) == ["kastus-kalinouski"]


async def test_nationality_filter_takes_any_of_several(client: httpx.AsyncClient) -> None:
    belarusian = ids(await client.get("/people", params={"nationality": "belarusian"}))
    assert belarusian == [
        "alexander-lukashenko",
        "franak-viacorka",
        "pavel-kulazhanka",
        "svetlana-tichanovskaya",
    ]
    both = ids(await client.get("/people", params={"nationality": "belarusian,russian", "limit": 100}))
    assert set(belarusian) < set(both)
    assert {"ilya-ponomarev", "vladimir-putin", "former-russian-sergeant"} < set(both)


async def test_unit_filter_lists_members(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/people", params={"unit": "kastus-kalinouski-battalion"})) == [
        "pavel-kulazhanka"
    ]
    members = ids(
        await client.get("/people", params={"unit": "freedom-for-russia-legion,three-russian-defectors"})
    )
    assert members == ["former-russian-sergeant"]


async def test_age_range_uses_stated_ages(client: httpx.AsyncClient) -> None:
    response = await client.get("/people", params={"min_age": 35, "max_age": 40, "sort": "age"})
    assert [(p["id"], p["age"]) for p in items(response)] == [
        ("pavel-kulazhanka", 36),
        ("svetlana-tichanovskaya", 39),
    ]


async def test_article_filter(client: httpx.AsyncClient) -> None:
    people = ids(await client.get("/people", params={"article": "test-fixture-article"}))
    assert people == ["test-spokesman", "vladimir-putin"]


async def test_sort_by_age_descending_puts_unknown_ages_last(client: httpx.AsyncClient) -> None:
    people = items(await client.get("/people", params={"sort": "-age", "limit": 100}))
    ages = [p["age"] for p in people]
    known = [a for a in ages if a is not None]
    assert known == sorted(known, reverse=True)
    assert ages[: len(known)] == known and all(a is None for a in ages[len(known) :])
    assert people[0]["id"] == "vladimir-putin"


async def test_unknown_person_is_a_404_naming_the_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/people/pavel-kulazanka")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "`pavel-kulazanka`" in response.json()["detail"]
