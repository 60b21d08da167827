"""HTTP behaviour shared by every endpoint: paging, sorting, formats, caching, methods and errors."""

import asyncio
import csv
import io

import httpx
import orjson
import pytest

from app import database
from app.main import create_app
from app.settings import Settings
from tests.conftest import ids, items

pytestmark = pytest.mark.anyio


async def test_envelope_and_link_headers_walk_every_page(client: httpx.AsyncClient) -> None:
    everything = ids(await client.get("/places", params={"limit": 500}))
    first = await client.get("/places", params={"limit": 5})
    body = first.json()
    assert (body["total"], body["limit"], body["offset"]) == (len(everything), 5, 0)
    assert first.headers["x-total-count"] == str(len(everything))
    assert 'rel="next"' in first.headers["link"] and 'rel="prev"' not in first.headers["link"]
    seen, url = ids(first), body["next"]
    while url:
        page = await client.get(url)
        seen += ids(page)
        assert 'rel="prev"' in page.headers["link"]
        url = page.json()["next"]
    assert seen == everything


async def test_last_page_has_no_next(client: httpx.AsyncClient) -> None:
    total = (await client.get("/places")).json()["total"]
    last = await client.get("/places", params={"offset": total - 2})
    body = last.json()
    assert len(body["items"]) == 2 and body["next"] is None
    assert 'rel="next"' not in last.headers["link"] and 'rel="prev"' in last.headers["link"]


async def test_a_page_exactly_as_long_as_the_matches_is_the_last(client: httpx.AsyncClient) -> None:
    """Pavel Kulazhanka is quoted twice: a page of two holds both and links nowhere; a page of one links
    to the second, in every format."""
    both = await client.get("/quotes", params={"speaker": "pavel-kulazhanka", "limit": 2})
    assert (both.json()["total"], both.json()["next"], len(items(both))) == (2, None, 2)
    assert "link" not in both.headers
    first = await client.get("/quotes", params={"speaker": "pavel-kulazhanka", "limit": 1})
    assert first.json()["total"] == 2 and 'rel="next"' in first.headers["link"]
    second = (await client.get(first.json()["next"])).json()
    assert [q["text"] for q in items(first) + second["items"]] == [
        "Without an independent Ukraine, there will be no independent Belarus",
        "Ukraine is my first stop. The second stop will be Belarus.",
    ]
    assert (second["total"], second["next"]) == (2, None)
    lines = await client.get(
        "/quotes", params={"speaker": "pavel-kulazhanka", "limit": 2, "format": "ndjson"}
    )
    assert [orjson.loads(line)["id"] for line in lines.text.splitlines()] == ids(both)
    assert lines.text.endswith("\n") and not lines.text.endswith("\n\n")


async def test_offset_past_the_end_is_an_empty_page(client: httpx.AsyncClient) -> None:
    body = (await client.get("/places", params={"offset": 1000})).json()
    assert body["items"] == [] and body["next"] is None and body["total"] == 18


async def test_limit_above_500_is_refused_not_truncated(client: httpx.AsyncClient) -> None:
    response = await client.get("/people", params={"limit": 501})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"parameter": "limit", "in": "query", "message": "must be at most 500", "value": "501"}
    ]


async def test_unknown_parameter_is_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/people", params={"nationalty": "belarusian"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["parameter"] == "nationalty"
    assert problem["detail"].startswith("nationalty: unknown parameter")


async def test_detail_endpoints_refuse_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/people/pavel-kulazhanka", params={"format": "csv"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "format"


async def test_sort_by_several_fields_and_unknown_sort_field(client: httpx.AsyncClient) -> None:
    units = items(await client.get("/units", params={"sort": "country,-name", "limit": 100}))
    keys = [(u["country"] is None, u["country"] or "", u["name"]) for u in units]
    assert [k[:2] for k in keys] == sorted(k[:2] for k in keys)
    belarus = [u["name"] for u in units if u["country"] == "belarus"]
    assert belarus == sorted(belarus, key=str.casefold, reverse=True)
    response = await client.get("/units", params={"sort": "size"})
    assert response.status_code == 422
    assert "unknown sort field 'size'" in response.json()["detail"]


async def test_cursor_paging_with_descending_sort_matches_offset_paging(client: httpx.AsyncClient) -> None:
    everything = ids(await client.get("/people", params={"sort": "-age,name", "limit": 500}))
    seen, url = [], "/people?sort=-age,name&limit=4"
    while url:
        page = (await client.get(url)).json()
        seen += [p["id"] for p in page["items"]]
        url = page["next"]
    assert seen == everything


@pytest.mark.parametrize(
    ("path", "sort"),
    [("/quotes", None), ("/events", "-date"), ("/figures", "amount"), ("/units", "country,-name")],
)
async def test_following_next_links_visits_every_record_once(
    client: httpx.AsyncClient, path: str, sort: str | None
) -> None:
    query = {"limit": 3} | ({"sort": sort} if sort else {})
    everything = ids(await client.get(path, params=query | {"limit": 500}))
    seen: list[str] = []
    url, pages = str(httpx.URL(path, params=query)), 0
    while url:
        page = (await client.get(url)).json()
        assert page["offset"] == len(seen)
        seen += [item["id"] for item in page["items"]]
        url, pages = page["next"], pages + 1
    assert seen == everything
    assert pages == -(-len(everything) // 3)


async def test_cursor_from_another_query_is_refused(client: httpx.AsyncClient) -> None:
    next_url = (await client.get("/people", params={"limit": 2})).json()["next"]
    cursor = httpx.URL(next_url).params["cursor"]
    response = await client.get("/people", params={"limit": 2, "sort": "-age", "cursor": cursor})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "cursor"
    garbage = await client.get("/people", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert garbage.status_code == 422


async def test_csv_has_a_header_and_flattened_rows(client: httpx.AsyncClient) -> None:
    response = await client.get("/quotes", params={"speaker": "pavel-kulazhanka", "format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["text"] for row in rows] == [
        "Without an independent Ukraine, there will be no independent Belarus",
        "Ukraine is my first stop. The second stop will be Belarus.",
    ]
    assert rows[0]["speaker.name"] == "Pavel Kulazhanka"
    assert rows[1]["addressees"] == "vladimir-putin | alexander-lukashenko"
    assert orjson.loads(rows[0]["evidence"])[0]["article"] == "belarusian-russian-volunteers-ukraine-2022"


async def test_csv_by_accept_header_and_empty_csv_keeps_the_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/people", params={"name": "nobody-at-all"}, headers={"Accept": "text/csv"})
    header = response.text.splitlines()
    assert header[0].startswith("id,name,aliases,age,ages,nationality,description")
    assert len(header) == 1


async def test_ndjson_has_one_record_per_line(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/people", params={"unit": "kastus-kalinouski-battalion"}, headers={"Accept": "application/x-ndjson"}
    )
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    assert [orjson.loads(line)["name"] for line in lines] == ["Pavel Kulazhanka"]


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.get("/people", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


async def test_etag_gives_304_and_differs_per_representation(client: httpx.AsyncClient) -> None:
    first = await client.get("/people/pavel-kulazhanka")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age" in first.headers["cache-control"]
    again = await client.get("/people/pavel-kulazhanka", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    csv_etag = (await client.get("/people", params={"format": "csv"})).headers["etag"]
    json_etag = (await client.get("/people")).headers["etag"]
    assert csv_etag != json_etag
    changed = await client.get("/people/pavel-kulazhanka", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    get = await client.get("/quotes")
    head = await client.head("/quotes")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_writes_are_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/people/pavel-kulazhanka")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["code"] == "method-not-allowed"


async def test_cors_allows_get_from_any_origin_without_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/people", headers={"Origin": "https://newsroom.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    preflight = await client.options(
        "/people", headers={"Origin": "https://newsroom.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, HEAD"
    refused = await client.options(
        "/people", headers={"Origin": "https://newsroom.example", "Access-Control-Request-Method": "DELETE"}
    )
    assert refused.status_code == 403


async def test_unknown_path_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/persons")
    assert response.status_code == 404
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code", "instance", "request_id"}
    assert body["instance"] == "/persons"


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/people/nobody", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


async def test_an_unexpected_error_is_a_logged_500_without_a_traceback(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(*args: object) -> list[tuple[object, ...]]:
        raise RuntimeError("a bug")

    app = create_app(sqlite_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        # Every statement fails from here on. (Patched on the database's class: the request path's own
        # modules may be compiled, and a compiled module calls its neighbours' functions directly.)
        monkeypatch.setattr(database._SqliteSnapshot, "all", broken)
        response = await client.get("/people/pavel-kulazhanka", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal"
    assert "bug-1" in body["detail"]
    assert "RuntimeError" not in response.text and "Traceback" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"] == "bug-1"
    log = capsys.readouterr().err
    assert "unhandled error in GET /people/pavel-kulazhanka (request id bug-1)" in log
    assert "RuntimeError: a bug" in log  # the traceback goes to the log, not to the client


async def test_every_request_gets_one_access_log_line_with_its_request_id() -> None:
    from starlette.types import Receive, Scope, Send

    from app.edge import EdgeMiddleware

    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    log = io.StringIO()
    edge = EdgeMiddleware(ok, cors_origins=["*"], stream=log)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(edge), base_url="http://test") as client:
        answers = [await client.get("/quotes", params={"speaker": "pavel-kulazhanka"})]
        answers += [await client.get(f"/people/{n}") for n in range(3)]
        answers.append(await client.get("/units", headers={"X-Request-ID": "report-42"}))
    await asyncio.sleep(0)  # lines go out at the end of the event loop's turn
    lines = log.getvalue().splitlines()
    assert len(lines) == 5
    assert "GET /quotes?speaker=pavel-kulazhanka 200" in lines[0]
    assert [line.split(" id=")[1] for line in lines] == [a.headers["x-request-id"] for a in answers]
    assert lines[-1].endswith("id=report-42")
    generated = {a.headers["x-request-id"] for a in answers[:-1]}
    assert len(generated) == 4 and all(len(rid) == 16 and int(rid, 16) >= 0 for rid in generated)


async def test_with_the_cache_off_every_answer_is_fresh_and_still_has_an_etag(
    sqlite_settings: Settings,
) -> None:
    app = create_app(sqlite_settings.model_copy(update={"cache_mb": 0}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        first = await client.get("/people/pavel-kulazhanka")
        assert first.json()["name"] == "Pavel Kulazhanka"
        again = await client.get("/people/pavel-kulazhanka", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]
        quotes = (await client.get("/quotes", params={"speaker": "pavel-kulazhanka"})).json()["items"]
        assert quotes and all(q["speaker"]["id"] == "pavel-kulazhanka" for q in quotes)
