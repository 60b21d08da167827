"""Records as CSV rows: how a record's JSON representation becomes one line of a spreadsheet.

Flattening, documented for spreadsheet users: nested objects become dotted columns (`speaker.id`,
`date.start`); lists of related records become their ids joined with ` | `; lists of aliases their names;
any other list (evidence, inferred) is kept whole as JSON text in its cell. The columns come from the
response model, so an empty result still has its header.

The loader stores each record's line next to its JSON document (`app.documents`), so a CSV page is read
and joined like a JSON page; search hits, made per request, are turned into lines as they are made. Both
use `line_writer`, so both give the same bytes for the same record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, get_args, get_origin

import orjson
from pydantic import BaseModel

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


def _field(value: Any) -> str:
    """One cell as the `csv` module writes it (`QUOTE_MINIMAL`, `,` and `"`): quoted when it holds a
    delimiter, a quote or a line break, its quotes doubled. `tests/test_tabular.py` checks it against
    `csv.writer`; written out because `str` methods find those characters several times faster than the
    writer's loop, and the loader makes a line for every record."""
    if value.__class__ is not str:
        return str(value)
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value


def line_writer(model: type[BaseModel]) -> Callable[[dict[str, Any]], bytes]:
    """A function turning one record (its JSON representation, as a dict) into its CSV line, CRLF-ended."""
    plan = csv_plan(model)

    def line(item: dict[str, Any]) -> bytes:
        cells = [
            _field(cell(item[name]) if sub is None else _scalar((item[name] or {}).get(sub)))
            for name, sub, cell in plan
        ]
        return (",".join(cells) + "\r\n").encode()

    return line


@functools.cache
def csv_header(model: type[BaseModel]) -> bytes:
    return (",".join(_field(column) for column in csv_columns(model)) + "\r\n").encode()
