"""GET /units: named and unnamed units, groups and outlets, with size, side and members."""

import httpx
import pytest

from tests.conftest import ids

pytestmark = pytest.mark.anyio


async def test_battalion_size_keeps_its_qualifier(client: httpx.AsyncClient) -> None:
    unit = (await client.get("/units/kastus-kalinouski-battalion")).json()
    assert unit["size"] == {
        "amount": 200,
        "lower": None,
        "upper": None,
        "qualifier": "approximate",
        "text": "around 200",
        "figure": "battalion-size",
    }
    assert unit["country"] == "belarus" and unit["side"] == "ukraine"
    assert unit["named_after"] == {
        "text": "the leader of the 1863 uprising against Tsarist Russia",
        "id": "kastus-kalinouski",
        "name": "Kastus Kalinouski",
    }
    assert [(p["id"], p["role"]) for p in unit["places"]] == [("kyiv", "fought in")]
    assert [(m["id"], m["role"]) for m in unit["members"]] == [("pavel-kulazhanka", "member")]


async def test_unnamed_units_are_records_with_their_city_marked_inferred(client: httpx.AsyncClient) -> None:
    unit = (await client.get("/units/unnamed-belarusian-unit-lutsk")).json()
    assert unit["places"][0]["id"] == "lutsk"
    assert unit["places"][0]["certainty"] == "inferred"
    assert {i["field"] for i in unit["inferred"]} == {"country", "side", "places"}


async def test_legion_membership_of_the_sergeant_is_inferred(client: httpx.AsyncClient) -> None:
    legion = (await client.get("/units/freedom-for-russia-legion")).json()
    (member,) = legion["members"]
    assert (member["id"], member["certainty"]) == ("former-russian-sergeant", "inferred")
    assert "Legion" in member["note"]


async def test_name_filter_matches_aliases_of_units(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/units", params={"name": "kalinowski"})) == ["kastus-kalinouski-battalion"]
    assert ids(await client.get("/units", params={"name": "freedom of russia"})) == [
        "freedom-for-russia-legion"
    ]
    assert ids(await client.get("/units", params={"name": "WSJ"})) == ["wall-street-journal"]


async def test_country_and_place_filters(client: httpx.AsyncClient) -> None:
    belarusian = ids(await client.get("/units", params={"country": "belarus", "kind": "military-unit"}))
    assert belarusian == [
        "kastus-kalinouski-battalion",
        "pahonia",
        "unnamed-belarusian-unit-lutsk",
        "unnamed-belarusian-unit-odessa",
    ]
    assert ids(await client.get("/units", params={"place": "odessa,lutsk"})) == [
        "unnamed-belarusian-unit-lutsk",
        "unnamed-belarusian-unit-odessa",
    ]


async def test_units_of_the_fixture_article_only(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/units", params={"article": "test-fixture-article"})) == [
        "test-volunteer-company"
    ]
