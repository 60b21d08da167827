"""Full-text search across every kind of record, ranked by relevance."""

from typing import Annotated, ClassVar

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import Field, StringConstraints
from starlette.responses import Response

from app import queries, schemas
from app.dependencies import SnapshotDep
from app.errors import InvalidParameter
from app.pagination import ListParams, Page, split_values
from app.params import IdList
from app.responses import list_response, list_responses

router = APIRouter(tags=["search"])


class SearchParams(ListParams):
    sort_fields: ClassVar[tuple[str, ...]] = ("relevance",)
    default_sort: ClassVar[str] = "relevance"

    q: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Words to find. Every word must occur (as a word or the start of one); case and accents "
        "are ignored. Operators and punctuation are treated as plain text.",
        examples=["kalinouski battalion"],
    )
    kind: IdList = Field(
        None,
        description="Only these kinds: person, unit, place, event, quote, figure, article (comma-separated).",
        examples=["quote,person"],
    )
    cursor: None = Field(None, description="Search pages by `offset`; `next` links say which.")
    sort: None = Field(None, description="Search results are ranked by relevance.")


@router.get(
    "/search",
    summary="Search everything",
    description="Ranked full-text search over people, units, places, events, quotes, figures and article "
    "texts. Each hit has its `kind`, `id`, a `label`, a relevance `score` and a `snippet` with the matched "
    "words in `<mark>…</mark>`.",
    operation_id="search",
    response_class=Response,
    responses=list_responses(schemas.SearchHitList),
)
async def search(
    request: Request, params: Annotated[SearchParams, Query()], snapshot: SnapshotDep
) -> Response:
    kinds = split_values(params.kind)
    unknown = [kind for kind in kinds if kind not in queries.SEARCH_KINDS]
    if unknown:
        raise InvalidParameter(
            "kind", f"unknown kind {unknown[0]!r}; use {', '.join(queries.SEARCH_KINDS)}", params.kind
        )
    total, hits = await queries.search(snapshot, params.q, kinds, params.limit, params.offset)
    next_offset = params.offset + params.limit if params.offset + len(hits) < total else None
    page = Page(
        [orjson.dumps(hit) for hit in hits], total, params.limit, params.offset, next_offset=next_offset
    )
    return list_response(request, params, page, schemas.SearchHit)
