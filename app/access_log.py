"""One log line per request (method, path, status, duration, request id), as text or JSON.

The request id comes from the client's `X-Request-ID` when it is a sane token, otherwise it is made
here; it is echoed in the response and in problem bodies, so a user's report can be found in the log.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("newsfacts.access")
_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("newsfacts")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = given.decode() if given and _SANE_ID.match(given) else os.urandom(8).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                duration = (time.perf_counter() - started) * 1000
                path = scope["path"] + (
                    "?" + scope["query_string"].decode("latin-1") if scope["query_string"] else ""
                )
                fields = {
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(duration, 2),
                    "request_id": request_id,
                }
                log.info(
                    "%s %s %d %.2fms id=%s",
                    scope["method"],
                    path,
                    status,
                    duration,
                    request_id,
                    extra={"fields": fields},
                )


def uvicorn_log_config(level: str, fmt: str) -> dict[str, Any]:
    """uvicorn's own messages (startup, errors) in the same format as ours."""
    formatter = (
        {"()": "app.access_log.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
        },
    }
