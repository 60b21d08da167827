"""What every request passes through on its way in and out: size limits, a request id, CORS, security
headers and the access-log line.

These are one middleware, not five, because each layer of ASGI middleware costs a few microseconds per
request, and a cached response costs only about twenty: here they share one pass over the request
headers and one wrapper around `send`.

- Limits: a request target over 8 KiB gets 414, headers over 16 KiB get 431 (before any parsing).
- Request id: the client's `X-Request-ID` when it is a sane token, otherwise a new one; echoed in the
  response and in problem bodies, so a user's report can be found in the log.
- CORS: GET and HEAD from the configured origins (`*` by default), never with credentials; preflights
  are answered here.
- Security headers: `nosniff`, `no-referrer` and a Content-Security-Policy. API responses get
  `default-src 'none'`; HTML pages get a policy that allows only the app's own origin (the docs pages
  load Swagger UI and ReDoc from `/static/`, never from a CDN, and no page runs inline script).
- Access log: one line per request (method, path, status, duration, request id), written directly: the
  `logging` machinery (records, caller lookup, handlers) would cost more than serving a cached response.
  The lines of the requests that finish in one turn of the event loop go out in one write at the end of
  that turn (a write per line was a tenth of a cached response's cost).
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http_cache import Reply

MAX_TARGET = 8 * 1024
MAX_HEADERS = 16 * 1024
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")

API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


def _page_policy(style_src: str) -> bytes:
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src {style_src}; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ).encode()


_PAGE_EXTRAS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
PAGE_HEADERS = [*_PAGE_EXTRAS, (b"content-security-policy", _page_policy("'self'"))]
# Swagger UI and ReDoc set styles from their scripts (ReDoc's styled-components cannot start without),
# so the two docs pages also allow inline *styles*. Scripts, everywhere, come only from the app itself.
DOCS_HEADERS = [*_PAGE_EXTRAS, (b"content-security-policy", _page_policy("'self' 'unsafe-inline'"))]
DOCS_PAGES = frozenset({"/docs", "/redoc"})

CORS_METHODS = b"GET, HEAD"
CORS_REQUEST_HEADERS = frozenset({"accept", "if-none-match", "x-request-id", "content-type"})
CORS_EXPOSED = b"ETag, Link, X-Total-Count, X-Request-ID"


Respond = Callable[[Scope, Receive], Awaitable[Reply]]


class EdgeMiddleware:
    """`respond`, when given, is the inner app's whole answer to a GET or HEAD as (status, headers,
    body) (`HttpCacheMiddleware.respond`): the edge sends it itself, its own headers added, instead of
    through a wrapped `send` — one pass fewer through two layers for most requests."""

    def __init__(
        self,
        app: ASGIApp,
        cors_origins: list[str],
        log_level: str = "info",
        log_format: str = "text",
        stream: TextIO | None = None,
        respond: Respond | None = None,
    ) -> None:
        self.app = app
        self.respond = respond
        self.any_origin = "*" in cors_origins
        self.origins = frozenset(o.encode() for o in cors_origins)
        self.log = log_level in ("info", "debug")
        self.json = log_format == "json"
        self.stream = stream or sys.stderr
        self._second = -1
        self._stamp = ""
        self._lines: list[str] = []  # written at the end of this turn of the event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = origin = preflight = None
        size = 0
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == b"x-request-id":
                request_id = value
            elif name == b"origin":
                origin = value
            elif name == b"access-control-request-method":
                preflight = value
        # A new id needs to be unique, not secret: `random` (reseeded in each worker process), not a
        # system call per request.
        rid = (
            request_id.decode()
            if request_id and _SANE_ID.match(request_id)
            else f"{random.getrandbits(64):016x}"
        )
        scope.setdefault("state", {})["request_id"] = rid
        extra = [(b"x-request-id", rid.encode())]
        allowed = origin is not None and (self.any_origin or origin in self.origins)
        if allowed:
            extra.append(
                (b"access-control-allow-origin", b"*" if self.any_origin or origin is None else origin)
            )
            extra.append((b"access-control-expose-headers", CORS_EXPOSED))
        if origin is not None and not self.any_origin:
            extra.append((b"vary", b"Origin"))
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                message["headers"] = [*headers, *extra, *self._security(scope["path"], headers)]
            await send(message)

        try:
            target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
            if target > MAX_TARGET:
                await self._reject(
                    send_with_headers, 414, "URI Too Long", "the request target is longer than 8 KiB"
                )
            elif size > MAX_HEADERS:
                await self._reject(
                    send_with_headers, 431, "Request Header Fields Too Large", "the headers exceed 16 KiB"
                )
            elif scope["method"] == "OPTIONS" and origin is not None and preflight is not None:
                await self._preflight(send_with_headers, allowed, preflight, scope)
            elif self.respond is not None and scope["method"] in ("GET", "HEAD"):
                status, headers, body = await self.respond(scope, receive)
                headers += [*extra, *self._security(scope["path"], headers)]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            if self.log:
                self._write(scope, status, (time.perf_counter() - started) * 1000, rid)

    @staticmethod
    def _security(path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        for name, value in headers:
            if name == b"content-type":
                if value.startswith(b"text/html"):
                    return DOCS_HEADERS if path in DOCS_PAGES else PAGE_HEADERS
                break
        return API_HEADERS

    @staticmethod
    async def _reject(send: Send, status: int, title: str, detail: str) -> None:
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": detail,
                "code": "request-too-large",
            }
        )
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _preflight(send: Send, allowed: bool, method: bytes, scope: Scope) -> None:
        requested = next((v for k, v in scope["headers"] if k == b"access-control-request-headers"), b"")
        names = {h.strip().lower() for h in requested.decode("latin-1").split(",") if h.strip()}
        if not allowed or method.upper() not in (b"GET", b"HEAD") or not names <= CORS_REQUEST_HEADERS:
            body = b"CORS preflight refused: this API allows GET and HEAD from the configured origins only"
            headers = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        headers = [
            (b"access-control-allow-methods", CORS_METHODS),
            (b"access-control-allow-headers", b", ".join(sorted(n.encode() for n in CORS_REQUEST_HEADERS))),
            (b"access-control-max-age", b"600"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return f"{self._stamp},{int((now - second) * 1000):03d}"

    def _write(self, scope: Scope, status: int, duration: float, request_id: str) -> None:
        query = scope["query_string"]
        path = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        method = scope["method"]
        if self.json:
            entry = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),  # as app.logs.JsonFormatter writes it
                "level": "info",
                "logger": "newsfacts.access",
                "message": f"{method} {path} {status}",
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(duration, 2),
                "request_id": request_id,
            }
            line = orjson.dumps(entry).decode()
        else:
            stamp = self._timestamp(time.time())
            line = f"{stamp} INFO newsfacts.access: {method} {path} {status} {duration:.2f}ms id={request_id}"
        self._lines.append(line)
        if len(self._lines) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        lines, self._lines = self._lines, []
        try:
            self.stream.write("\n".join(lines) + "\n")
        except (OSError, ValueError):
            return  # a closed or full log stream must not fail a request
