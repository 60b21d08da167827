"""One error shape for the whole API: RFC 9457 problem details (`application/problem+json`).

Every error body has `type`, `title`, `status`, `detail` and `instance`, plus `code` (a stable,
machine-readable name) and `request_id`; validation errors add `errors`, one entry per offending
parameter: `{"parameter", "in", "message", "value"}`. Clients may rely on these keys.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.database import DatabaseUnavailable, QueryTimeout

log = logging.getLogger("newsfacts")
PROBLEM_JSON = "application/problem+json"
ALLOW = "GET, HEAD"


def title(status: int) -> str:
    # RFC 9110's name; Python before 3.13 still says "Unprocessable Entity".
    return "Unprocessable Content" if status == 422 else HTTPStatus(status).phrase


class ApiError(Exception):
    status = 400
    code = "bad-request"

    def __init__(self, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFound(ApiError):
    status = 404
    code = "not-found"


class InvalidParameter(ApiError):
    """A parameter that passed type checks but makes no sense (a stale cursor, a query with no words)."""

    status = 422
    code = "invalid-parameter"

    def __init__(self, parameter: str, message: str, value: Any = None, location: str = "query") -> None:
        super().__init__(
            f"{parameter}: {message}",
            errors=[{"parameter": parameter, "in": location, "message": message, "value": value}],
        )


class NotAcceptable(ApiError):
    status = 406
    code = "not-acceptable"


def problem(
    request: Request | None,
    status: int,
    detail: str,
    code: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
        body["request_id"] = request.scope.get("state", {}).get("request_id")
    body.update(extra)
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


PATTERN_MESSAGES = {
    "id": "must be an id: lowercase letters, digits and hyphens, like `pavel-kulazhanka`",
    "year": "must be four-digit years, comma-separated, like `2014,2015`",
    "cursor": "is not a cursor from this API; follow a `next` link as given",
    "sort": "must be sort fields, comma-separated, `-` for descending; see /docs for each endpoint's fields",
}
ID_LIST_MESSAGE = (
    "must be ids (lowercase letters, digits and hyphens), comma-separated, like `belarus,ukraine`"
)


def _validation_entry(error: dict[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    location = loc[0] if loc and loc[0] in ("query", "path", "header") else "query"
    name = next((part for part in reversed(loc) if part not in ("query", "path", "header")), "request")
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown parameter; check its spelling against the documentation at /docs"
    elif kind == "less_than_equal":
        message = f"must be at most {context.get('le')}"
    elif kind == "greater_than_equal":
        message = f"must be at least {context.get('ge')}"
    elif kind in ("int_parsing", "int_type"):
        message = "must be a whole number"
    elif kind == "missing":
        message = "is required"
    elif kind == "string_pattern_mismatch":
        message = PATTERN_MESSAGES.get(name, ID_LIST_MESSAGE)
    elif kind == "string_too_long":
        message = f"must be at most {context.get('max_length')} characters"
    value = error.get("input")
    if not isinstance(value, str | int | float | bool | type(None)):
        value = None
    if isinstance(value, str) and len(value) > 200:
        value = value[:200] + "…"
    return {"parameter": name, "in": location, "message": message, "value": value}


def _validation_problem(request: Request, exc: RequestValidationError) -> Response:
    entries = [_validation_entry(dict(error)) for error in exc.errors()]
    detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in entries) or "invalid request"
    return problem(request, 422, detail, "invalid-parameter", errors=entries)


def _http_problem(request: Request, exc: StarletteHTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return problem(
            request, 404, f"no resource at {request.url.path}; see /docs for the endpoints", "not-found"
        )
    if exc.status_code == 405:
        headers["Allow"] = ALLOW
        detail = f"{request.method} is not allowed: this API is read-only; use GET or HEAD"
        return problem(request, 405, detail, "method-not-allowed", headers)
    name = title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else name
    return problem(request, exc.status_code, detail, name.lower().replace(" ", "-"), headers)


def _timeout_problem(request: Request) -> Response:
    detail = "the request took longer than its time budget in the database; narrow the query and retry"
    return problem(request, 503, detail, "timeout", {"Retry-After": "1"})


def _unavailable_problem(request: Request, exc: DatabaseUnavailable) -> Response:
    return problem(request, 503, f"the database is not ready: {exc}", "unavailable", {"Retry-After": "5"})


def render(request: Request, exc: Exception) -> Response | None:
    """The problem response for an exception the API knows, or None; shared by every code path."""
    if isinstance(exc, ApiError):
        return problem(request, exc.status, exc.detail, exc.code, exc.headers, **exc.extra)
    if isinstance(exc, RequestValidationError):
        return _validation_problem(request, exc)
    if isinstance(exc, StarletteHTTPException):
        return _http_problem(request, exc)
    if isinstance(exc, QueryTimeout):
        return _timeout_problem(request)
    if isinstance(exc, DatabaseUnavailable):
        return _unavailable_problem(request, exc)
    return None


def unexpected(request: Request, exc: Exception) -> Response:
    """The last line: an exception no handler took is logged and becomes a 500 without a traceback."""
    request_id = request.scope.get("state", {}).get("request_id")
    log.error(
        "unhandled error in %s %s (request id %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    detail = f"an unexpected error; it has been logged with request id {request_id}"
    return problem(request, 500, detail, "internal")


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        response = render(request, exc)
        assert response is not None, f"no problem response for {type(exc).__name__}"
        return response

    async def last_line(request: Request, exc: Exception) -> Response:
        return unexpected(request, exc)

    for kind in (ApiError, RequestValidationError, StarletteHTTPException, QueryTimeout, DatabaseUnavailable):
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(Exception, last_line)
