"""Health and statistics: is the service up, which dataset it serves, and what is in it."""

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from app import __version__, schemas
from app.database import Database, DatabaseUnavailable
from app.dependencies import NoParams, SnapshotDep
from app.responses import UNAVAILABLE, json_response

router = APIRouter(tags=["meta"])


@router.get(
    "/health",
    summary="Liveness, database check and dataset version",
    description="200 when the database answers; 503, with the reason, when it does not (missing, damaged, "
    "unreachable). `dataset.version` changes with every load that changes the data.",
    operation_id="health",
    response_class=Response,
    responses={200: {"model": schemas.Health}, 503: {"model": schemas.Health, "description": "Not ready."}},
    dependencies=[NoParams],
)
async def health(request: Request) -> Response:
    database: Database = request.app.state.database
    backend = request.app.state.settings.backend
    try:
        info = await database.current()
    except DatabaseUnavailable as exc:
        body = {
            "status": "unavailable",
            "version": __version__,
            "database": {"backend": backend, "ok": False, "error": str(exc)},
            "dataset": None,
        }
        return Response(
            orjson.dumps(body),
            status_code=503,
            media_type="application/json",
            headers={"Cache-Control": "no-store", "Retry-After": "5"},
        )
    body = {
        "status": "ok",
        "version": __version__,
        "database": {"backend": backend, "ok": True, "error": None},
        "dataset": {
            "version": info.version,
            "revision": info.revision,
            "counts": info.counts,
            "facts": info.facts,
            "loaded_at": info.loaded_at,
        },
    }
    request.scope.setdefault("state", {})["dataset_version"] = info.version
    request.scope["state"]["no_store"] = True
    return Response(orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get(
    "/stats",
    summary="Counts per kind and facets",
    description="Records per kind; people per nationality, quotes per speaker, events per starting year and "
    "units per country. Computed when the data was loaded.",
    operation_id="stats",
    response_class=Response,
    responses={200: {"model": schemas.Stats}, 503: UNAVAILABLE},
    dependencies=[NoParams],
)
async def stats(snapshot: SnapshotDep) -> Response:
    info = snapshot.info
    body = {"dataset_version": info.version, "counts": info.counts, "facts": info.facts} | info.stats
    return json_response(orjson.dumps(body))
