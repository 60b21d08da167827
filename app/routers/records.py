"""People, units, places, events, quotes and figures: a list and a detail endpoint each.

The six resources differ only in their parameters, model and documentation, so one function builds each
router from a `RecordResource`; the SQL behind them is in `app.queries`.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from app import queries, schemas
from app.dependencies import NoParams, SingleValues, SnapshotDep
from app.formats import chosen_format
from app.identifiers import ID_PATTERN
from app.pagination import ListParams
from app.params import EventParams, FigureParams, PeopleParams, PlaceParams, QuoteParams, UnitParams
from app.responses import detail_responses, json_response, list_response, list_responses


@dataclass(frozen=True)
class RecordResource:
    kind: str
    path: str
    params: type[ListParams]
    list_model: type[BaseModel]
    example_id: str
    list_summary: str
    list_description: str

    @property
    def model(self) -> type[BaseModel]:
        return schemas.RECORD_MODELS[self.kind]


RESOURCES = [
    RecordResource(
        "person",
        "people",
        PeopleParams,
        schemas.PersonList,
        "pavel-kulazhanka",
        "List people",
        "Everyone the articles name, and the unnamed people who speak or act. Try `name=tsikhanouskaya` "
        "(an alias), `unit=kastus-kalinouski-battalion` (its members) or `nationality=belarusian,russian`.",
    ),
    RecordResource(
        "unit",
        "units",
        UnitParams,
        schemas.UnitList,
        "kastus-kalinouski-battalion",
        "List units and organisations",
        "Military units (named and unnamed), groups, governments and outlets. Try `country=belarus` or "
        "`place=kyiv`.",
    ),
    RecordResource(
        "place",
        "places",
        PlaceParams,
        schemas.PlaceList,
        "kyiv",
        "List places",
        "Countries, regions and cities, with their other spellings. Try `name=kiev` or `country=ukraine`.",
    ),
    RecordResource(
        "event",
        "events",
        EventParams,
        schemas.EventList,
        "defence-of-kyiv",
        "List events",
        'Everything the articles report or refer to, from 1863 to "on Tuesday". Dates are ranges: an event '
        "matches `year`, `from` and `to` when its range overlaps. Try `year=2015` or `participant=ilya-ponomarev`.",
    ),
    RecordResource(
        "quote",
        "quotes",
        QuoteParams,
        schemas.QuoteList,
        "kulazhanka-independent-ukraine",
        "List quotes",
        "Every direct quote, verbatim, with who said it (or how the article describes an unnamed speaker), "
        "to whom, and where. Try `speaker=pavel-kulazhanka`, `unit=kastus-kalinouski-battalion` or `q=belarus`.",
    ),
    RecordResource(
        "figure",
        "figures",
        FigureParams,
        schemas.FigureList,
        "battalion-size",
        "List figures",
        'Every number the articles state, with its words kept: "around 200" is amount 200, qualifier '
        '`approximate`; "more than 1000" is lower bound 1000, qualifier `more-than`.',
    ),
]

RecordId = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        max_length=80,
        description="The record's id: lowercase words joined by hyphens.",
    ),
]


def _router(resource: RecordResource) -> APIRouter:
    router = APIRouter(prefix=f"/{resource.path}", tags=[resource.path])
    kind, params_model = resource.kind, resource.params

    async def list_records(
        request: Request,
        params: Annotated[params_model, Query()],  # type: ignore[valid-type]
        snapshot: SnapshotDep,
    ) -> Response:
        checked: ListParams = params  # an instance of params_model
        fmt = chosen_format(request, checked.format)
        page = await queries.list_records(snapshot, kind, checked, fmt)
        return list_response(request, page, resource.model, fmt)

    async def get_record(id: RecordId, snapshot: SnapshotDep) -> Response:
        return json_response(await queries.get_record(snapshot, kind, id))

    router.add_api_route(
        "",
        list_records,
        methods=["GET"],
        summary=resource.list_summary,
        description=resource.list_description,
        operation_id=f"list_{resource.path}",
        response_class=Response,
        responses=list_responses(resource.list_model),
        dependencies=[SingleValues],
    )
    router.add_api_route(
        "/{id}",
        get_record,
        methods=["GET"],
        summary=f"One {kind} by id",
        description=f"Example: `/{resource.path}/{resource.example_id}`.",
        operation_id=f"get_{kind}",
        response_class=Response,
        responses=detail_responses(resource.model, kind, resource.example_id),
        dependencies=[NoParams],
    )
    return router


def routers() -> list[APIRouter]:
    return [_router(resource) for resource in RESOURCES]
