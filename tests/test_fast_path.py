"""The fast path answers exactly as FastAPI's routes do: same status, bytes and headers, for valid and
invalid requests alike (it hands anything it does not fully understand to the routes)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.settings import Settings
from tests.conftest import api_client

pytestmark = pytest.mark.anyio
COMPARED_HEADERS = ("content-type", "link", "x-total-count", "etag", "allow", "cache-control", "vary")
URLS = [
    "/people",
    "/people?name=kiev",
    "/people?name=Tsikhanouskaya&sort=-age",
    "/people?nationality=Belarusian,russian&limit=2",
    "/people?unit=kastus-kalinouski-battalion&format=csv",
    "/people?min_age=40&max_age=30",
    "/people?limit=0",
    "/people?limit=501",
    "/people?limit=abc",
    "/people?nam=x",
    "/people?name=",
    "/people?name=a&name=b",
    "/people?cursor=garbage!",
    "/people?sort=size",
    "/people/pavel-kulazhanka",
    "/people/pavel-kulazhanka?format=csv",
    "/people/Pavel",
    "/people/nobody-here",
    "/quotes?speaker=pavel-kulazhanka",
    "/quotes?unit=kastus-kalinouski-battalion&format=ndjson",
    "/quotes?q=independent%20belarus",
    "/quotes?q=%2A%2A%2A",
    "/quotes?anonymous=true&limit=1",
    "/quotes?anonymous=maybe",
    "/events?year=2015",
    "/events?from=2015-03-01&to=2015-03-31",
    "/events?from=2015-13-01",
    "/events?from=2016-01-01&to=2015-01-01",
    "/events?participant=kastus-kalinouski-battalion&sort=-date",
    "/units?country=belarus&place=kyiv,odessa",
    "/places?name=odesa",
    "/figures?qualifier=approximate",
    "/search?q=kalinouski",
    "/search?q=putin&kind=quote,person&limit=3&offset=1",
    "/search?q=putin&kind=planet",
    "/search?q=",
    "/search",
    "/quotes/kulazhanka-first-stop",
]


@pytest.fixture(scope="module")
async def fast(sqlite_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in api_client(sqlite_settings, fast_path=True):
        yield client


@pytest.fixture(scope="module")
async def routes(sqlite_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in api_client(sqlite_settings, fast_path=False):
        yield client


def _comparable(response: httpx.Response) -> tuple[int, bytes, dict[str, str | None]]:
    body = response.content
    if response.headers.get("content-type") == "application/problem+json":
        problem = response.json()
        problem.pop("request_id")
        body = repr(sorted(problem.items())).encode()
    return response.status_code, body, {h: response.headers.get(h) for h in COMPARED_HEADERS}


async def _same(
    fast: httpx.AsyncClient, routes: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> None:
    assert _comparable(await fast.get(url, headers=headers)) == _comparable(
        await routes.get(url, headers=headers)
    ), url


@pytest.mark.parametrize("url", URLS)
async def test_fast_path_and_routes_agree(
    fast: httpx.AsyncClient, routes: httpx.AsyncClient, url: str
) -> None:
    await _same(fast, routes, url, {})


@pytest.mark.parametrize("accept", ["text/csv", "application/x-ndjson", "image/png", "text/html,*/*;q=0.8"])
async def test_fast_path_and_routes_agree_on_negotiation(
    fast: httpx.AsyncClient, routes: httpx.AsyncClient, accept: str
) -> None:
    await _same(fast, routes, "/quotes?speaker=franak-viacorka", {"Accept": accept})


PARAMETERS = [
    "name",
    "nationality",
    "unit",
    "min_age",
    "max_age",
    "article",
    "limit",
    "offset",
    "sort",
    "format",
    "cursor",
    "speaker",
]
VALUES = st.one_of(
    st.sampled_from(
        ["belarusian", "kyiv", "-age", "name,-age", "0", "1", "500", "501", "-1", "csv", "json", "", "x y"]
    ),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(st.tuples(st.sampled_from(PARAMETERS), VALUES), max_size=4))
async def test_any_query_gets_the_same_answer_from_both_paths(
    fast: httpx.AsyncClient, routes: httpx.AsyncClient, query: list[tuple[str, str]]
) -> None:
    url = str(httpx.URL("/people", params=query))
    await _same(fast, routes, url, {})


@given(query=st.text(alphabet=st.sampled_from("ab=&;+% 2Fé"), max_size=12))
def test_the_fast_path_reads_a_query_string_as_parse_qsl_does(query: str) -> None:
    from urllib.parse import parse_qsl

    from app.fast_path import query_pairs

    assert query_pairs(query) == parse_qsl(query, keep_blank_values=True)
