"""The fast path: valid list, detail and search requests answered without FastAPI's per-request machinery.

FastAPI spends more time resolving a query-parameter model and its dependencies (hundreds of µs) than our
indexed queries take. This middleware answers the requests that matter for throughput — a well-formed
GET of a list, a record by id, or a search — with the *same* parameter models, queries and response
builders as the routes, and hands everything else to FastAPI untouched: any parameter that fails
validation, a repeated or empty parameter, an unknown path, a format the client does not accept. Errors
therefore always come from one place, and the routes stay the documented reference. The response cache
(`app.http_cache`) asks it first, with a plain call rather than through ASGI messages, and hands the
request to FastAPI's own layers (error, telemetry and body-size middleware) when it declines; it renders
its own problem responses, with the same functions the routes' handlers use.
`tests/test_fast_path.py` checks that both paths give byte-identical answers. On PostgreSQL it reads with
one statement per query, each carrying the dataset version (`Database.statements`), where the routes
open a transaction: a request whose statements saw two datasets is answered again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from app import errors, formats, queries, schemas
from app.database import Database, DatasetChanged
from app.identifiers import ID_PATTERN
from app.pagination import ListParams, PageParams
from app.params import SearchParams
from app.responses import json_response, list_response
from app.routers.records import RESOURCES

Handler = Callable[..., Awaitable[Response | None]]  # (request, database, *its arguments)
P = TypeVar("P", bound=PageParams)
_ID = re.compile(ID_PATTERN)
ATTEMPTS = 3
RECORDS: dict[str, tuple[str, type[ListParams], type[BaseModel]]] = {  # the routes' own definitions
    f"/{resource.path}": (resource.kind, resource.params, resource.model) for resource in RESOURCES
}


def query_pairs(query: str) -> list[tuple[str, str]]:
    """`parse_qsl(query, keep_blank_values=True)`, for less where there is nothing to decode (most
    queries): split on `&`, then on the first `=`."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    return [(name, value) for name, _, value in (part.partition("=") for part in query.split("&") if part)]


def _params(request: Request, model: type[P]) -> P | None:
    """The validated parameters, or None when FastAPI should look at them (and report what is wrong)."""
    pairs = query_pairs(request.scope["query_string"].decode("latin-1"))
    values = dict(pairs)
    if len(values) != len(pairs) or "" in values.values():
        return None
    try:
        return model.model_validate(values)
    except ValidationError:
        return None


def _format(request: Request, params: PageParams) -> str | None:
    try:
        return formats.chosen_format(request, params.format)
    except errors.NotAcceptable:
        return None


async def _list(
    request: Request, database: Database, kind: str, model: type[ListParams], out: type[BaseModel]
) -> Response | None:
    params = _params(request, model)
    if params is None or (fmt := _format(request, params)) is None:
        return None
    async with database.statements() as snapshot:
        page = await queries.list_records(snapshot, kind, params, fmt)
        request.scope["state"]["dataset_version"] = snapshot.info.version  # known: a statement has run
    return list_response(request, page, out, fmt)


async def _detail(request: Request, database: Database, kind: str, ident: str) -> Response | None:
    if request.scope["query_string"] or len(ident) > 80 or not _ID.match(ident):
        return None
    async with database.statements() as snapshot:
        doc = await queries.get_record(snapshot, kind, ident)
        request.scope["state"]["dataset_version"] = snapshot.info.version
    return json_response(doc)


async def _search(request: Request, database: Database) -> Response | None:
    params = _params(request, SearchParams)
    if params is None or (fmt := _format(request, params)) is None:
        return None
    async with database.statements() as snapshot:
        page = await queries.search(snapshot, params, fmt)
        request.scope["state"]["dataset_version"] = (await snapshot.dataset()).version
    return list_response(request, page, schemas.SearchHit, fmt)


class FastPath:
    """`await fast_path(scope)`: the response to a GET it answers, or None for FastAPI to answer."""

    @staticmethod
    def _handler(path: str) -> tuple[Handler, tuple[Any, ...]] | None:
        record = RECORDS.get(path)
        if record is not None:
            return _list, record
        if path == "/search":
            return _search, ()
        prefix, _, ident = path.rpartition("/")
        record = RECORDS.get(prefix)
        if record is not None and ident:
            return _detail, (record[0], ident)
        return None

    async def __call__(self, scope: Scope) -> Response | None:
        found = self._handler(scope["path"]) if scope["method"] == "GET" else None
        if found is None:
            return None
        handler, arguments = found
        scope.setdefault("state", {})
        request = Request(scope)
        database = scope["app"].state.database
        try:
            # Asked again if a new dataset was loaded while it read (PostgreSQL): the second time, it
            # reads the new one throughout. A third change in a row is reported (503).
            for _ in range(ATTEMPTS - 1):
                try:
                    return await handler(request, database, *arguments)
                except DatasetChanged:
                    pass
            return await handler(request, database, *arguments)
        except Exception as exc:  # the same problem responses as the routes give, the 500 included
            return errors.render(request, exc) or errors.unexpected(request, exc)
