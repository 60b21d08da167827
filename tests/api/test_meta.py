"""GET /health and /stats."""

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_health_reports_the_dataset(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"]["ok"] is True
    assert len(body["dataset"]["version"]) == 64
    assert body["dataset"]["counts"]["person"] == 15
    assert response.headers["cache-control"] == "no-store"


async def test_stats_facets(client: httpx.AsyncClient) -> None:
    stats = (await client.get("/stats")).json()
    assert stats["counts"] == {
        "article": 2,
        "person": 15,
        "unit": 22,
        "place": 18,
        "event": 17,
        "quote": 11,
        "figure": 11,
    }
    assert stats["people_by_nationality"]["belarusian"] == 4
    speakers = {s["id"]: s["count"] for s in stats["quotes_by_speaker"]}
    assert speakers["pavel-kulazhanka"] == 2 and speakers["julie-fischer"] == 1
    assert stats["events_by_year"]["1863"] == 1
    assert stats["units_by_country"]["belarus"] == 7
