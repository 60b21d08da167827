"""`python -m bench.inprocess`: what a request costs the app itself, without uvicorn or a socket.

`python -m bench` measures the server as a client sees it. The profiles in BENCH.md also need what the
app alone spends on a request, and where a search's time goes; this measures both, on a corpus that
`python -m bench` has built (`BENCH_WORK`, /tmp/newsfacts-bench by default):

- each scenario's paths (the benchmark's own) go through the whole ASGI app in turn, with production
  settings (uvloop too) but the response cache off, as in the benchmark's cold scenarios, and the access
  log written to /dev/null; the figure is µs per request, the best of `--passes` passes over every path (at least
  2,000 requests a pass), after one pass that reads what search keeps in memory;
- for search, the same searches are also split into the two pieces that grow with the corpus: the
  ranking in memory (`SearchIndex.rank`) and the page, its entries read and their snippets made
  (`queries.page_entries`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import uvloop

from app.dialects import search_terms
from app.main import create_app
from app.queries import page_entries
from app.search_index import Ranking
from bench import WORK
from bench.scenarios import sample

SCENARIOS = ["cold", "detail", "search", "search_common", "csv", "deep"]
MIN_REQUESTS = 2000


def _scope(path: str) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"bench.inprocess")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


async def _best(passes: int, count: int, one_pass: Callable[[], Awaitable[None]]) -> float:
    """µs per item of the fastest of `passes` passes over `count` items, after one to warm up."""
    await one_pass()
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        await one_pass()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


async def _requests(app: Any, paths: list[str], passes: int) -> float:
    sequence = paths * -(-MIN_REQUESTS // len(paths))
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def one_pass() -> None:
        statuses.clear()
        for number, path in enumerate(sequence):
            await app(_scope(path), receive, send)
            if number % 16 == 15:  # a turn of the event loop per 16 requests, as with wrk's 16 connections
                await asyncio.sleep(0)
        if set(statuses) != {200}:
            raise SystemExit(f"not every request answered 200: {sorted(set(statuses))}")

    return await _best(passes, len(sequence), one_pass)


async def _search_parts(app: Any, paths: list[str], passes: int) -> dict[str, float]:
    """The ranking and the page of each search, in turn; and the hits a page holds."""
    queries = [dict(parse_qsl(path.partition("?")[2]))["q"] for path in paths]
    async with app.state.database.snapshot() as snapshot:
        index = snapshot.search_index
        if index is None:
            raise SystemExit("search is not ranked in memory here (SEARCH_INDEX_MB=0)")
        terms = [search_terms(query) for query in queries]
        terms = [words for words in terms if index.applies(words)]
        rankings: list[Ranking] = []

        async def rank() -> None:
            rankings[:] = [await index.rank(snapshot, words, [], 50, 0) for words in terms]

        async def page() -> None:
            for words, ranking in zip(terms, rankings, strict=True):
                await page_entries(snapshot, words, ranking)

        return {
            "ranking": await _best(passes, len(terms), rank),
            "page": await _best(passes, len(terms), page),
            "hits_per_page": sum(len(ranking.hits) for ranking in rankings) / max(len(rankings), 1),
        }


async def measure(size: str, scenarios: list[str], passes: int) -> list[tuple[str, float]]:
    database = WORK / f"{size}.db"
    if not database.exists():
        raise SystemExit(f"no {database}: build the corpora with `python -m bench` first")
    paths = sample(database)
    os.environ.update(DATABASE_URL=f"sqlite:///{database}", CACHE_MB="0", LOG_LEVEL="info")
    figures = []
    # The access log goes where the server's goes, stderr: here /dev/null, written all the same.
    with open(os.devnull, "w") as log, contextlib.redirect_stderr(log):
        app = create_app()
        async with app.router.lifespan_context(app):
            for name in scenarios:
                figures.append((f"{name}_{size}", await _requests(app, paths[name], passes)))
                if name == "search":
                    parts = await _search_parts(app, paths[name], passes)
                    figures += [(f"search_{part}_{size}", value) for part, value in parts.items()]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1m", help="the corpus: 10k or 1m (default 1m)")
    parser.add_argument("--passes", type=int, default=3, help="passes measured, the best reported")
    parser.add_argument("scenarios", nargs="*", default=SCENARIOS, help=f"default: {' '.join(SCENARIOS)}")
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    for name, value in uvloop.run(measure(args.size, args.scenarios, max(args.passes, 1))):
        unit = "hits" if name.startswith("search_hits") else "us"
        print(f"{unit} {name} {value:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
