"""The application factory: settings, database and middleware are built here, per app, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app import COMPILED, __version__, errors
from app.database import create_database
from app.edge import EdgeMiddleware
from app.fast_path import FastPath
from app.http_cache import HttpCacheMiddleware
from app.logs import configure_logging
from app.responses import document_limits
from app.revision import SCHEMA_REVISION
from app.routers import ROUTERS, STATIC
from app.settings import Settings, load_settings

DESCRIPTION = """
People, units, quotes, events, places and figures from news articles.

* Every record carries `evidence`: spans of the article text (`start`/`end` in Unicode code points into
  [`/articles/{id}/text`](/articles/belarusian-russian-volunteers-ukraine-2022/text)) and whether the fact
  is **stated** or **inferred** (with the reason).
* Read the article with every fact highlighted:
  [/articles/belarusian-russian-volunteers-ukraine-2022](/articles/belarusian-russian-volunteers-ukraine-2022)
  in a browser.
* Lists take `limit` (≤ 500), `offset` or `cursor`, `sort`, and `format=json|csv|ndjson`; an unknown
  parameter is an error, never ignored. Errors are RFC 9457 problem details.
* Names match however they are spelled: case, accents and known aliases (`kiev` finds Kyiv).
"""

TAGS = [
    {"name": "people", "description": "Named people, and unnamed ones who speak or act."},
    {"name": "units", "description": "Military units, groups, governments and outlets."},
    {"name": "quotes", "description": "Direct quotes, verbatim, with speaker, addressee and medium."},
    {"name": "events", "description": "What happened, when (as precisely as the text allows) and where."},
    {"name": "places", "description": "Countries, regions and cities."},
    {"name": "figures", "description": "Numbers the articles state, with their qualifiers."},
    {"name": "articles", "description": "The sources, their exact text and what is known about them."},
    {"name": "search", "description": "Ranked full-text search across everything."},
    {"name": "meta", "description": "Health and statistics."},
]


class NewsfactsAPI(FastAPI):
    """FastAPI with the HTTP edge, the response cache and the fast path *outside* its own error and
    telemetry layers.

    A cached response then costs only what `app.edge` and `app.http_cache` do, a fast read skips four
    layers it does not need, and errors answered by FastAPI's last-resort handler still pass through the
    edge (request id, security headers, log line).
    """

    def __init__(self, *, outer: Callable[[ASGIApp], ASGIApp], **options: Any) -> None:
        self.outer = outer
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        return self.outer(super().build_middleware_stack())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Straight into the stack, as Starlette's entry does, once it is built. FastAPI's own entry
        would first look for telemetry, which `create_app` turns off, and a `root_path`, which we do not
        set (a proxy's prefix comes in the scope): a check for nothing on every request."""
        if scope["type"] == "http" and self.middleware_stack is not None and not self.root_path:
            scope["app"] = self
            await self.middleware_stack(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, fast_path: bool = True) -> FastAPI:
    """The app; `fast_path=False` leaves every request to FastAPI's routes (the tests compare the two)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    database = create_database(settings, expected_revision=SCHEMA_REVISION)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.open()
        logging.getLogger("newsfacts").info(
            "the request path runs %s",
            f"compiled by mypyc ({len(COMPILED)} modules)"
            if COMPILED
            else "as Python, uncompiled (setup.py)",
        )
        yield
        await database.close()

    def outer(inner: ASGIApp) -> ASGIApp:
        cached = HttpCacheMiddleware(
            inner, max_bytes=settings.cache_mb * 1024 * 1024, fast_path=FastPath() if fast_path else None
        )
        return EdgeMiddleware(
            cached,
            cors_origins=settings.cors_origin_list,
            log_level=settings.log_level,
            log_format=settings.log_format,
            respond=cached.respond,
        )

    app = NewsfactsAPI(
        outer=outer,
        title="newsfacts",
        version=__version__,
        summary="The facts of news articles, each traceable to the words of its source.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # No OpenTelemetry export here: access logs are our own, and the per-request check costs ~10 µs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_limits(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.database = database
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    for path, static in STATIC():
        app.mount(path, static)
    return app
