"""Full-text search across every kind of record, ranked by relevance."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app import queries, schemas
from app.dependencies import SingleValues, SnapshotDep
from app.formats import chosen_format
from app.params import SearchParams
from app.responses import list_response, list_responses

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    summary="Search everything",
    description="Ranked full-text search over people, units, places, events, quotes, figures and article "
    "texts. Each hit has its `kind`, `id`, a `label`, a relevance `score` and a `snippet` with the matched "
    "words in `<mark>…</mark>`.",
    operation_id="search",
    response_class=Response,
    responses=list_responses(schemas.SearchHitList),
    dependencies=[SingleValues],
)
async def search(
    request: Request, params: Annotated[SearchParams, Query()], snapshot: SnapshotDep
) -> Response:
    fmt = chosen_format(request, params.format)
    return list_response(request, await queries.search(snapshot, params, fmt), schemas.SearchHit, fmt)
