"""The ceiling: a bare Starlette app returning precomputed response bytes (what no Python API can beat).

It reads {"/route": [content_type, "file with the bytes"]} from CEILING_ROUTES and serves each route's
bytes as they are: no parameters, no database, no serialisation.
"""

import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _route(path: str, content_type: str, body: bytes) -> Route:
    async def endpoint(request: Request) -> Response:
        return Response(body, media_type=content_type)

    return Route(path, endpoint)


def create_app() -> Starlette:
    routes = json.loads(Path(os.environ["CEILING_ROUTES"]).read_text())
    return Starlette(
        routes=[_route(path, kind, Path(file).read_bytes()) for path, (kind, file) in routes.items()]
    )
