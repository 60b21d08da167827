"""Response formats: JSON (default), CSV and NDJSON for lists, chosen by `format=` or `Accept`.

CSV flattening, documented for spreadsheet users: nested objects become dotted columns (`speaker.id`,
`date.start`); lists of related records become their ids joined with ` | `; lists of aliases their names;
any other list (evidence, inferred) is kept whole as JSON text in its cell. The header comes from the
response model, so an empty result still has its columns.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from typing import Any, get_args, get_origin

import orjson
from pydantic import BaseModel
from starlette.requests import Request

from app.errors import NotAcceptable

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "html": "text/html; charset=utf-8",
}
_BY_MEDIA_TYPE = {
    "application/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
LIST_FORMATS = ("json", "csv", "ndjson")


@functools.lru_cache(maxsize=128)  # clients send a handful of distinct Accept headers, again and again
def negotiate(accept: str | None, allowed: tuple[str, ...] = LIST_FORMATS) -> str:
    """The format the client prefers among `allowed` (the first is the default). 406 when none fits."""
    if not accept:
        return allowed[0]
    best: tuple[float, int, str] | None = None
    for order, part in enumerate(accept.split(",")):
        media, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        fmt = allowed[0] if media in ("*/*", "application/*") else _BY_MEDIA_TYPE.get(media)
        # Highest quality wins; among equals, the one the client listed first.
        if fmt in allowed and quality > 0 and (best is None or (quality, -order) > (best[0], -best[1])):
            best = (quality, order, fmt)
    if best is None:
        offered = ", ".join(MEDIA_TYPES[f].split(";")[0] for f in allowed)
        raise NotAcceptable(f"cannot answer with {accept!r}; this endpoint offers {offered}")
    return best[2]


def chosen_format(request: Request, explicit: str | None, allowed: tuple[str, ...] = LIST_FORMATS) -> str:
    return explicit or negotiate(request.headers.get("accept"), allowed)


def json_envelope(docs: list[bytes], total: int, limit: int, offset: int, next_url: str | None) -> bytes:
    # The items are stored JSON; joining bytes is all the serialising a list needs.
    return b"".join(
        (
            b'{"items":[',
            b",".join(docs),
            b'],"total":',
            str(total).encode(),
            b',"limit":',
            str(limit).encode(),
            b',"offset":',
            str(offset).encode(),
            b',"next":',
            orjson.dumps(next_url),
            b"}",
        )
    )


def ndjson(docs: list[bytes]) -> bytes:
    return b"".join(doc + b"\n" for doc in docs)


PROVENANCE = ("certainty", "note", "inferred", "articles", "evidence")
Cell = Callable[[Any], Any]


def _scalar(value: Any) -> Any:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()


def _ids(value: list[dict[str, Any]]) -> str:
    return " | ".join(str(v["id"]) for v in value)


def _names(value: list[dict[str, Any]]) -> str:
    return " | ".join(str(v["name"]) for v in value)


def _joined(value: list[Any]) -> str:
    return " | ".join(str(v) for v in value)


def _list_cell(item: Any) -> Cell:
    """How a list field becomes one cell, decided once from the model, not per value."""
    if isinstance(item, type) and issubclass(item, BaseModel):
        if "id" in item.model_fields:
            return _ids
        if {"name", "source"} <= set(item.model_fields):
            return _names
        return _json
    return _joined


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model of a field typed `Model` or `Model | None` (but not `list[Model]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not list:
        for arg in get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return None


@functools.cache
def csv_plan(model: type[BaseModel]) -> tuple[tuple[str, str | None, Cell], ...]:
    """The columns of a model's CSV, in the order of the JSON keys (the record's own fields, then its
    provenance): (column, nested key or None, how the value becomes a cell)."""
    plan: list[tuple[str, str | None, Cell]] = []
    for name, info in sorted(model.model_fields.items(), key=lambda item: item[0] in PROVENANCE):
        annotation = info.annotation
        nested = _model_in(annotation)
        if nested is not None:
            plan += [(name, sub, _scalar) for sub in nested.model_fields]
        elif get_origin(annotation) is list:
            plan.append((name, None, _list_cell(get_args(annotation)[0])))
        elif get_origin(annotation) is dict:
            plan.append((name, None, _json))
        else:
            plan.append((name, None, _scalar))
    return tuple(plan)


def csv_columns(model: type[BaseModel]) -> list[str]:
    return [name if sub is None else f"{name}.{sub}" for name, sub, _ in csv_plan(model)]


def csv_body(items: list[dict[str, Any]], model: type[BaseModel]) -> bytes:
    plan = csv_plan(model)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(model))
    writer.writerows(
        [
            cell(item[name]) if sub is None else _scalar((item[name] or {}).get(sub))
            for name, sub, cell in plan
        ]
        for item in items
    )
    return buffer.getvalue().encode()
