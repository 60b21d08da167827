"""The application factory: settings, database and middleware are built here, per app, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from app import __version__, errors
from app.access_log import AccessLogMiddleware, configure_logging
from app.database import create_database
from app.http_cache import HttpCacheMiddleware
from app.loader import head_revision
from app.routers import ROUTERS, STATIC
from app.security import SecurityHeadersMiddleware
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


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    database = create_database(settings, expected_revision=head_revision())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.open()
        yield
        await database.close()

    app = FastAPI(
        title="newsfacts",
        version=__version__,
        summary="The facts of news articles, each traceable to the words of its source.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(AccessLogMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_methods=["GET", "HEAD"],
                allow_headers=["Accept", "If-None-Match", "X-Request-ID"],
                expose_headers=["ETag", "Link", "X-Total-Count", "X-Request-ID"],
                allow_credentials=False,
                max_age=600,
            ),
            Middleware(HttpCacheMiddleware, max_bytes=settings.cache_mb * 1024 * 1024),
            Middleware(errors.UnexpectedErrorMiddleware),
        ],
    )
    app.state.settings = settings
    app.state.database = database
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    for path, static in STATIC():
        app.mount(path, static)
    return app
