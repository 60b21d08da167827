"""Articles: their metadata, their exact text, and (for browsers) the text with its facts highlighted."""

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from app import pages, queries, schemas
from app.database import Snapshot
from app.dependencies import NoParams, SingleValues, SnapshotDep
from app.formats import chosen_format
from app.identifiers import ID_PATTERN
from app.params import ArticleParams
from app.responses import detail_responses, json_response, list_response, list_responses

router = APIRouter(prefix="/articles", tags=["articles"])
EXAMPLE = "belarusian-russian-volunteers-ukraine-2022"
ArticleId = Annotated[
    str,
    Path(pattern=ID_PATTERN, max_length=80, description="The article's id (its folder under `seeds/`)."),
]


class ArticleFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "html"] | None = Field(
        None,
        description="`html`: the text with its facts highlighted (what browsers get); overrides `Accept`.",
    )


@router.get(
    "",
    summary="List articles",
    description="The articles the facts come from, with byline, outlet and date as far as they can be "
    "known; inferred values are listed in `inferred`, with the reason.",
    operation_id="list_articles",
    response_class=Response,
    responses=list_responses(schemas.ArticleList),
    dependencies=[SingleValues],
)
async def list_articles(
    request: Request, params: Annotated[ArticleParams, Query()], snapshot: SnapshotDep
) -> Response:
    fmt = chosen_format(request, params.format)
    page = await queries.list_records(snapshot, "article", params, fmt)
    return list_response(request, page, schemas.Article, fmt)


@router.get(
    "/{id}",
    summary="One article by id (in a browser: the annotated text)",
    description=f"Example: `/articles/{EXAMPLE}`. JSON by default. With `Accept: text/html` (a browser) or "
    "`format=html`: the article's text with every fact highlighted by kind, saying what each fact is and "
    "whether the text states it or it was inferred.",
    operation_id="get_article",
    response_class=Response,
    responses=detail_responses(schemas.Article, "article", EXAMPLE)
    | {
        200: {
            "model": schemas.Article,
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "The article's metadata (JSON) or its annotated text (HTML).",
        }
    },
)
async def get_article(
    request: Request,
    id: ArticleId,
    params: Annotated[ArticleFormat, Query()],
    snapshot: SnapshotDep,
) -> Response:
    fmt = chosen_format(request, params.format, ("json", "html"))
    doc = await queries.get_record(snapshot, "article", id)
    if fmt == "json":
        return json_response(doc)
    return HTMLResponse(await annotated_article(snapshot, orjson.loads(doc)))


@router.get(
    "/{id}/text",
    summary="The article's exact text",
    description="UTF-8, exactly as received. Every `start`/`end` in the API is an offset into this text, "
    "counted in Unicode code points (not bytes): `text[start:end]` in Python gives the evidence.",
    operation_id="get_article_text",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "The text."},
        **{
            status: response
            for status, response in detail_responses(schemas.Article, "article", EXAMPLE).items()
            if status in (404, 422, 503)
        },
    },
    dependencies=[NoParams],
)
async def get_article_text(id: ArticleId, snapshot: SnapshotDep) -> Response:
    return PlainTextResponse(await queries.article_text(snapshot, id))


async def annotated_article(snapshot: Snapshot, article: dict[str, Any]) -> str:
    ident = str(article["id"])
    text = await queries.article_text(snapshot, ident)
    spans = await queries.article_spans(snapshot, ident)
    highlights = [
        pages.Highlight(number, kind, entity_id, start, end, certainty, note)
        for number, (kind, entity_id, start, end, certainty, note) in enumerate(spans, start=1)
    ]
    docs = {}
    for kind in pages.KINDS:
        wanted = sorted({h.ident for h in highlights if h.kind == kind})
        for doc in await queries.docs_by_id(snapshot, kind, wanted):
            parsed = orjson.loads(doc)
            docs[(kind, parsed["id"])] = parsed
    return pages.article_page(article, text, highlights, docs)
