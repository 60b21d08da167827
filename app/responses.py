"""Building list and detail responses, and declaring them in OpenAPI, the same way for every resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app import formats
from app.errors import PROBLEM_JSON
from app.pagination import Page, link_header, page_links
from app.schemas import Problem


def base_url(request: Request) -> str:
    """The request's URL without its query, as Starlette builds it (scheme, Host header, full path)."""
    scope = request.scope
    scheme = scope.get("scheme", "http")
    for key, value in scope["headers"]:
        if key == b"host":
            return f"{scheme}://{value.decode('latin-1')}{scope['path']}"
    server = scope.get("server")
    if server is None:
        return scope["path"]  # type: ignore[no-any-return]
    host, port = server
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}{'' if port == default else f':{port}'}{scope['path']}"


class Encoded(Response):
    """A 200 response with its headers given encoded: the same bytes as Starlette's `Response` makes of a
    body, headers and a media type, without decoding and encoding them again (a list or a record is
    thousands of responses a second)."""

    def __init__(
        self, body: bytes, media_type: bytes, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [
            *(headers or ()),
            (b"content-length", str(len(body)).encode()),
            (b"content-type", media_type),
        ]


def list_response(request: Request, page: Page, model: type[BaseModel], fmt: str) -> Response:
    """The page in `fmt`, its items already encoded for it (`app.queries`), with its links in headers."""
    query = request.scope["query_string"].decode("latin-1")
    links = {} if page.alone else page_links(base_url(request), query, page)
    headers = [(b"x-total-count", str(page.total).encode())]
    if links:
        headers.append((b"link", link_header(links).encode("latin-1")))
    if fmt == "csv":
        body = formats.csv_body(page.docs, model)
    elif fmt == "ndjson":
        body = formats.ndjson(page.docs)
    else:
        body = formats.json_envelope(page.docs, page.total, page.limit, page.offset, links.get("next"))
    return Encoded(body, formats.ENCODED_MEDIA_TYPES[fmt], headers)


def json_response(body: bytes) -> Response:
    return Encoded(body, b"application/json")


def _problem_example(status: int, detail: str, code: str, **extra: Any) -> dict[str, Any]:
    from http import HTTPStatus

    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def _problem(status: int, description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}},
    }


UNAVAILABLE = _problem(
    503,
    "The database is not ready, or the request ran out of its time budget.",
    _problem_example(
        503,
        "the database is not ready: no database at data/newsfacts.db; build it with `python -m app load`",
        "unavailable",
    ),
)


def list_responses(list_model: type[BaseModel]) -> dict[int | str, Any]:
    return {
        200: {
            "model": list_model,
            "description": "One page of matching records. `Link` has the `next`/`prev` pages; "
            "`X-Total-Count` the number of matches.",
            "content": {
                "application/json": {},
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
            "headers": {
                "Link": {
                    "description": "RFC 8288 links: rel=next, prev, first.",
                    "schema": {"type": "string"},
                },
                "X-Total-Count": {"description": "Matches on all pages.", "schema": {"type": "integer"}},
                "ETag": {
                    "description": "Strong validator; send it back in If-None-Match.",
                    "schema": {"type": "string"},
                },
            },
        },
        304: {"description": "Not modified: the `If-None-Match` ETag still matches."},
        406: _problem(
            406,
            "None of the formats in `Accept` is offered.",
            _problem_example(
                406,
                "cannot answer with 'image/png'; this endpoint offers application/json, text/csv, "
                "application/x-ndjson",
                "not-acceptable",
            ),
        ),
        422: _problem(
            422,
            "A parameter is unknown or has a value that cannot be used; `errors` names each one.",
            _problem_example(
                422,
                "limit: must be at most 500",
                "invalid-parameter",
                errors=[
                    {"parameter": "limit", "in": "query", "message": "must be at most 500", "value": "600"}
                ],
            ),
        ),
        503: UNAVAILABLE,
    }


def detail_responses(model: type[BaseModel], kind: str, example_id: str) -> dict[int | str, Any]:
    return {
        200: {"model": model, "description": f"The {kind}, with the evidence each fact rests on."},
        304: {"description": "Not modified: the `If-None-Match` ETag still matches."},
        404: _problem(
            404,
            f"No {kind} has this id.",
            _problem_example(404, f"no {kind} with id `{example_id}x`", "not-found"),
        ),
        422: _problem(
            422,
            "A parameter was given; detail endpoints take none.",
            _problem_example(
                422,
                "format: unknown parameter; this endpoint takes none",
                "invalid-parameter",
                errors=[
                    {
                        "parameter": "format",
                        "in": "query",
                        "message": "unknown parameter; this endpoint takes none",
                        "value": "csv",
                    }
                ],
            ),
        ),
        503: UNAVAILABLE,
    }


LIMIT_RESPONSES = {
    "414": "The request target (path and query) is longer than 8 KiB.",
    "431": "The request headers exceed 16 KiB.",
}


def document_limits(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation can meet the edge's size limits (`app.edge`): say so in OpenAPI."""
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, description in LIMIT_RESPONSES.items():
                operation["responses"].setdefault(status, {"description": description, "content": content})
    return schema
