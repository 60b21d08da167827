"""HTTP caching for a read-only API: strong ETags, 304s, HEAD, and an in-memory response cache.

Every successful GET gets a strong ETag derived from the dataset version and the request that chose the
representation (path, query, host, negotiated format); the same dataset answers the same request with
the same bytes, so equal ETags mean equal bodies. A reload changes the version, hence every ETag.

Responses are kept in a bounded LRU keyed by the same things, and the cache is emptied whenever the
version changes, so it never serves data from a previous load. HEAD is answered as GET without a body.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.database import DatabaseUnavailable
from app.errors import NotAcceptable
from app.formats import negotiate

CACHE_CONTROL = b"public, max-age=60"
ALL_FORMATS = ("json", "csv", "ndjson", "html")
MAX_ENTRY = 4 * 1024 * 1024


@dataclass(frozen=True)
class CachedResponse:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


class ResponseCache:
    """A byte-bounded LRU of response bodies for one dataset version."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.version: str | None = None
        self.entries: OrderedDict[bytes, CachedResponse] = OrderedDict()
        self.size = 0

    def for_version(self, version: str) -> None:
        if version != self.version:
            self.entries.clear()
            self.size = 0
            self.version = version

    def get(self, key: bytes) -> CachedResponse | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: bytes, entry: CachedResponse) -> None:
        cost = len(entry.body) + len(key) + 256
        if cost > min(self.max_bytes, MAX_ENTRY):
            return
        self.entries[key] = entry
        self.size += cost
        while self.size > self.max_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.size -= len(evicted.body) + 256


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    if if_none_match.strip() == b"*":
        return True
    # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    return any(candidate.strip().removeprefix(b"W/") == etag for candidate in if_none_match.split(b","))


FastPath = Callable[[Scope], Awaitable[Response | None]]
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers and body, as they are to be sent


def _reply(
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    etag: bytes | None,
    if_none_match: bytes | None,
    head: bool,
    status: int = 200,
) -> Reply:
    if etag is not None and if_none_match is not None and _matches(if_none_match, etag):
        kept = [(k, v) for k, v in headers if k in (b"etag", b"cache-control", b"vary")]
        return 304, kept, b""
    return status, [*headers, (b"content-length", str(len(body)).encode())], b"" if head else body


class HttpCacheMiddleware:
    """The cache in front of `fast_path` (`app.fast_path`: asked first, with a plain call) and `app`."""

    def __init__(self, app: ASGIApp, max_bytes: int, fast_path: FastPath | None = None) -> None:
        self.app = app
        self.fast_path = fast_path
        self.cache = ResponseCache(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        status, headers, body = await self.respond(scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def respond(self, scope: Scope, receive: Receive) -> Reply:
        """The whole answer to a GET or HEAD: from the cache, the fast path, or the app behind."""
        head = scope["method"] == "HEAD"
        if head:
            scope = dict(scope, method="GET")
        accept = host = if_none_match = None  # the first of each
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value if accept is None else accept
            elif name == b"host":
                host = value if host is None else host
            elif name == b"if-none-match":
                if_none_match = value if if_none_match is None else if_none_match
        try:
            fmt = negotiate(accept.decode("latin-1") if accept else None, ALL_FORMATS)
        except NotAcceptable:
            fmt = "none"
        path = scope["path"].encode("utf-8", "surrogateescape")
        key = b"\x00".join((path, scope["query_string"], host or b"", fmt.encode()))

        version = None
        if self.cache.max_bytes:  # with the cache off (CACHE_MB=0) the version is not needed here
            try:
                version = (await scope["app"].state.database.current()).version
            except DatabaseUnavailable:  # answered below (503), never cached
                version = None
        if version is not None:
            self.cache.for_version(version)
            hit = self.cache.get(key)
            if hit is not None:
                return _reply(hit.headers, hit.body, hit.etag, if_none_match, head)

        response = await self.fast_path(scope) if self.fast_path is not None else None
        if response is None:
            status, body, response_headers = await self._answer(scope, receive)
        else:
            status, body = response.status_code, bytes(response.body)
            response_headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
        state = scope.get("state", {})
        built_from = state.get("dataset_version")
        if status != 200 or built_from is None or state.get("no_store"):
            vary = [] if state.get("no_store") else [(b"vary", b"Accept")]
            return _reply(response_headers + vary, body, None, None, head, status)
        digest = hashlib.blake2b(key, digest_size=8).hexdigest()
        etag = f'"{built_from[:16]}-{digest}"'.encode()
        response_headers += [(b"etag", etag), (b"cache-control", CACHE_CONTROL), (b"vary", b"Accept")]
        if built_from == version and self.cache.max_bytes:
            # A right-sized copy: a body made by orjson in one piece keeps orjson's whole write buffer (4 KiB
            # and up), and the cache's bound counts the body's length.
            self.cache.put(key, CachedResponse(response_headers, bytes(memoryview(body)), etag))
        return _reply(response_headers, body, etag, if_none_match, head)

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """The inner app's status, body and headers (less `content-length`: the cache sets its own)."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, capture)
        except Exception:
            if not start:
                raise
            # The error handler has answered (and logged the error); Starlette re-raises for servers that
            # log too. Pass its problem response on instead of letting the server replace it.
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        return start.get("status", 500), b"".join(chunks), headers
