"""Response formats: JSON (default), CSV and NDJSON for lists, chosen by `format=` or `Accept`.

How a record becomes a CSV line is `app.tabular`'s business; here, pages are put together from the items'
stored bytes.
"""

from __future__ import annotations

import functools

import orjson
from pydantic import BaseModel
from starlette.requests import Request

from app.errors import NotAcceptable
from app.tabular import csv_header

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "html": "text/html; charset=utf-8",
}
ENCODED_MEDIA_TYPES = {fmt: media_type.encode() for fmt, media_type in MEDIA_TYPES.items()}
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
    if explicit:
        return explicit
    for name, value in request.scope["headers"]:  # names come lower-cased (ASGI)
        if name == b"accept":
            return negotiate(value.decode("latin-1"), allowed)
    return allowed[0]


# What separates a page's items in each format's body. The pages of SQLite lists come joined with it
# already (`app.queries.list_records`): one piece, which the functions below join as they would the items.
ITEM_SEPARATORS = {"json": b",", "ndjson": b"\n", "csv": b""}  # a CSV line ends with its newline


def json_envelope(docs: list[bytes], total: int, limit: int, offset: int, next_url: str | None) -> bytes:
    # The items are stored JSON; joining bytes is all the serialising a list needs. One join, so the
    # items (tens of kB) are copied once: the envelope's head and tail ride on the first and last item,
    # or around the one piece of items joined already.
    head = b'{"items":['
    tail = b"".join(
        (
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
    if not docs:
        return head + tail
    if len(docs) == 1:
        return b"".join((head, docs[0], tail))
    parts = docs.copy()
    parts[0] = head + parts[0]
    parts[-1] = parts[-1] + tail
    return ITEM_SEPARATORS["json"].join(parts)


def ndjson(docs: list[bytes]) -> bytes:
    return ITEM_SEPARATORS["ndjson"].join([*docs, b""])  # a newline after each item, the items copied once


def csv_body(lines: list[bytes], model: type[BaseModel]) -> bytes:
    """A CSV document: the model's header, then one stored or freshly made line per item."""
    return b"".join((csv_header(model), *lines))  # each line ends with its own newline
