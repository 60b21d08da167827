"""GET /events: dates as ranges, matched by overlap; places and participants with roles."""

import httpx
import pytest

from tests.conftest import ids, items

pytestmark = pytest.mark.anyio


async def test_a_range_of_years_matches_any_date_inside_it(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/events", params={"from": "2015-03-01", "to": "2015-03-01"})) == [
        "donbass-fighting-2014-2015"
    ]
    assert ids(await client.get("/events", params={"year": "2015"})) == ["donbass-fighting-2014-2015"]


async def test_year_list_is_any_of(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/events", params={"year": "1863,2020"})) == [
        "uprising-of-1863",
        "belarus-uprising-2020",
    ]


async def test_tuesday_is_resolved_against_the_articles_date_and_marked_inferred(
    client: httpx.AsyncClient,
) -> None:
    event = (await client.get("/events/defectors-press-conference")).json()
    assert event["date"] == {
        "text": "on Tuesday",
        "start": "2022-04-05",
        "end": "2022-04-05",
        "precision": "day",
        "certainty": "inferred",
        "note": event["date"]["note"],
    }
    assert "last Tuesday" in event["date"]["note"]


async def test_ongoing_war_matches_any_later_range(client: httpx.AsyncClient) -> None:
    later = ids(await client.get("/events", params={"from": "2030-01-01"}))
    assert later == ["war-in-ukraine"]
    war = (await client.get("/events/war-in-ukraine")).json()
    assert (war["date"]["start"], war["date"]["end"]) == ("2022-02-24", None)


async def test_undated_events_match_no_date_filter(client: httpx.AsyncClient) -> None:
    assert "putins-spies-in-berlin" not in ids(
        await client.get("/events", params={"from": "1000-01-01", "limit": 100})
    )
    spies = (await client.get("/events/putins-spies-in-berlin")).json()
    assert spies["date"]["precision"] == "unknown"


async def test_participant_filter_takes_people_and_units(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/events", params={"participant": "ilya-ponomarev"})) == [
        "annexation-of-crimea"
    ]
    battalion = ids(await client.get("/events", params={"participant": "kastus-kalinouski-battalion"}))
    assert battalion == ["donbass-fighting-2014-2015", "defence-of-kyiv"]


async def test_place_and_kind_filters(client: httpx.AsyncClient) -> None:
    kyiv = ids(await client.get("/events", params={"place": "kyiv"}))
    assert kyiv == ["defence-of-kyiv", "sabotage-of-supply-lines", "defectors-press-conference"]
    assert ids(await client.get("/events", params={"kind": "uprising"})) == [
        "uprising-of-1863",
        "belarus-uprising-2020",
    ]


async def test_event_roles_and_places(client: httpx.AsyncClient) -> None:
    event = (await client.get("/events/defence-of-kyiv")).json()
    assert [(p["id"], p["role"]) for p in event["participants"]] == [
        ("kastus-kalinouski-battalion", "defender"),
        ("russian-armed-forces", "attacker"),
    ]
    assert event["places"][0]["id"] == "kyiv"


async def test_month_precision_date_from_the_fixture(client: httpx.AsyncClient) -> None:
    event = (await client.get("/events/test-company-training")).json()
    assert (event["date"]["start"], event["date"]["end"], event["date"]["precision"]) == (
        "2023-03-01",
        "2023-03-31",
        "month",
    )
    founded = (await client.get("/events/test-company-founded")).json()
    assert founded["date"]["start"] == "2023-03-10"


async def test_default_order_is_by_date_with_undated_last(client: httpx.AsyncClient) -> None:
    events = items(await client.get("/events", params={"limit": 100}))
    assert events[0]["id"] == "uprising-of-1863"
    assert events[-1]["id"] == "putins-spies-in-berlin"
