"""/docs and /redoc, served with their scripts and styles from the app itself: they work offline, behind a
firewall, and under a Content-Security-Policy that allows only the app's own origin."""

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from app import pages

router = APIRouter(include_in_schema=False)
# Swagger UI 5 and ReDoc 2, as shipped (and kept up to date) by the fastapi-offline package.
VENDORED_ASSETS = Path(fastapi_offline.__file__).parent / "static"
OWN_ASSETS = Path(__file__).parent.parent / "static"


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(pages.swagger_page())


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return HTMLResponse(pages.redoc_page())


def static_apps() -> list[tuple[str, StaticFiles]]:
    return [
        ("/static/docs", StaticFiles(directory=VENDORED_ASSETS)),
        ("/static", StaticFiles(directory=OWN_ASSETS)),
    ]
