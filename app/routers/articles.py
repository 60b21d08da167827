"""Articles: their metadata, their exact text, and (for browsers) the text with its facts highlighted."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import PlainTextResponse, Response

from app import queries, schemas
from app.dependencies import NoParams, SnapshotDep
from app.facts_file import ID_PATTERN
from app.params import ArticleParams
from app.responses import detail_responses, json_response, list_response, list_responses

router = APIRouter(prefix="/articles", tags=["articles"])
ArticleId = Annotated[
    str,
    Path(pattern=ID_PATTERN, max_length=80, description="The article's id (its folder under `seeds/`)."),
]


@router.get(
    "",
    summary="List articles",
    description="The articles the facts come from, with byline, outlet and date as far as they can be "
    "known; inferred values are listed in `inferred`, with the reason.",
    operation_id="list_articles",
    response_class=Response,
    responses=list_responses(schemas.ArticleList),
)
async def list_articles(
    request: Request, params: Annotated[ArticleParams, Query()], snapshot: SnapshotDep
) -> Response:
    page = await queries.list_records(snapshot, "article", params)
    return list_response(request, params, page, schemas.Article)


@router.get(
    "/{id}",
    summary="One article by id",
    description="Example: `/articles/belarusian-russian-volunteers-ukraine-2022`.",
    operation_id="get_article",
    response_class=Response,
    responses=detail_responses(schemas.Article, "article", "belarusian-russian-volunteers-ukraine-2022"),
    dependencies=[NoParams],
)
async def get_article(id: ArticleId, snapshot: SnapshotDep) -> Response:
    return json_response(await queries.get_record(snapshot, "article", id))


@router.get(
    "/{id}/text",
    summary="The article's exact text",
    description="UTF-8, exactly as received. Every `start`/`end` in the API is an offset into this text, "
    "counted in Unicode code points (not bytes): `text[start:end]` in Python gives the evidence.",
    operation_id="get_article_text",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The text."},
        404: detail_responses(schemas.Article, "article", "belarusian-russian-volunteers-ukraine-2022")[404],
        503: detail_responses(schemas.Article, "article", "x")[503],
    },
    dependencies=[NoParams],
)
async def get_article_text(id: ArticleId, snapshot: SnapshotDep) -> Response:
    return PlainTextResponse(await queries.article_text(snapshot, id))
