"""GET /places and /figures."""

import httpx
import pytest

from tests.conftest import ids, items

pytestmark = pytest.mark.anyio


async def test_kiev_finds_what_kyiv_finds(client: httpx.AsyncClient) -> None:
    assert (
        ids(await client.get("/places", params={"name": "kiev"}))
        == ids(await client.get("/places", params={"name": "kyiv"}))
        == ["kyiv"]
    )


async def test_places_by_country_and_kind(client: httpx.AsyncClient) -> None:
    cities = ids(await client.get("/places", params={"country": "ukraine", "kind": "city"}))
    assert cities == ["bucha", "kyiv", "lutsk", "lviv", "odessa"]
    assert ids(await client.get("/places", params={"name": "odesa"})) == ["odessa"]


async def test_figures_keep_their_words_and_qualifiers(client: httpx.AsyncClient) -> None:
    figures = {f["id"]: f for f in items(await client.get("/figures", params={"limit": 100}))}
    waiting = figures["volunteers-waiting"]
    assert (waiting["text"], waiting["amount"], waiting["lower"], waiting["qualifier"]) == (
        "More than 1000",
        None,
        1000,
        "more-than",
    )
    hundreds = figures["volunteers-fighting"]
    assert (hundreds["text"], hundreds["amount"], hundreds["qualifier"]) == ("Hundreds", None, "hundreds")
    assert figures["defectors-count"]["subject"] == {
        "kind": "unit",
        "id": "three-russian-defectors",
        "name": "Three Russian defectors",
        "property": "size",
    }


async def test_figures_by_qualifier(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/figures", params={"qualifier": "approximate"})) == [
        "battalion-size",
        "test-company-size",
    ]
