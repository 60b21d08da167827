"""One way to page, sort and choose a format, shared by every list endpoint.

Pages are addressed by `offset` (simple, any page) or by `cursor` (keyset: as fast on page 10,000 as on
page 1). Every response's `next` link carries a cursor; `prev` and `first` carry offsets. A cursor
remembers the sort and the filters it was made for, and is refused with any others.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import unquote_plus

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.errors import InvalidParameter

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000
PAGING_FIELDS = frozenset({"limit", "offset", "cursor", "sort", "format"})
Format = Literal["json", "csv", "ndjson"]


def sort_field(fields: tuple[str, ...], default: str) -> Any:
    """The `sort` parameter of one endpoint, documented with the fields it accepts."""
    names = "|".join(fields)
    return Field(
        None,
        max_length=200,
        description=f"Comma-separated fields to sort by, `-` for descending: {', '.join(fields)}. "
        f"Default: `{default}`, then `id`. Unknown values sort last.",
        examples=[f"-{fields[0]}" if fields[0] != default else fields[0]],
        json_schema_extra={"pattern": f"^-?({names})(,-?({names}))*$"},
    )


class PageParams(BaseModel):
    """Query parameters every paged endpoint takes: how many items, from where, in which format."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
    offset: int = Field(
        0, ge=0, le=MAX_OFFSET, description="Items to skip. For deep pages, follow `next` instead."
    )
    format: Format | None = Field(
        None,
        description="Response format; overrides the `Accept` header (`text/csv`, `application/x-ndjson`).",
    )

    def filters(self) -> dict[str, Any]:
        return {
            key: value for key, value in self.model_dump(by_alias=True).items() if key not in PAGING_FIELDS
        }


class ListParams(PageParams):
    """Parameters of the record lists: paging by keyset too, and sorting. Subclasses add filters and name
    their sort fields."""

    sort_fields: ClassVar[tuple[str, ...]] = ("id",)
    default_sort: ClassVar[str] = "id"

    cursor: str | None = Field(
        None,
        max_length=4096,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque position from a previous page's `next` link (keyset paging). Not with `offset`.",
    )
    sort: str | None = sort_field(("id",), "id")

    @field_validator("sort")
    @classmethod
    def _known_sort_fields(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for part in value.split(","):
            name = part.strip().removeprefix("-")
            if name not in cls.sort_fields:
                raise ValueError(f"unknown sort field {name!r}; use one of: {', '.join(cls.sort_fields)}")
        return ",".join(part.strip() for part in value.split(","))

    def sort_spec(self) -> tuple[tuple[str, bool], ...]:
        """((field, descending), ...), with `id` appended as the tie-breaker that makes every order total."""
        return _sort_spec(self.sort or self.default_sort)

    def filter_fingerprint(self) -> str:
        canonical = orjson.dumps(self.filters(), option=orjson.OPT_SORT_KEYS, default=str)
        return hashlib.blake2b(canonical, digest_size=6).hexdigest()


@functools.lru_cache(maxsize=256)  # valid sort values only (checked by the model), bounded all the same
def _sort_spec(sort: str) -> tuple[tuple[str, bool], ...]:
    spec = [(part.removeprefix("-"), part.startswith("-")) for part in sort.split(",")]
    if "id" not in {name for name, _ in spec}:
        spec.append(("id", False))
    return tuple(spec)


def split_values(value: str | None) -> list[str]:
    """`a,b` means any of a or b."""
    if value is None:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass(frozen=True)
class Cursor:
    offset: int
    keys: list[Any]

    def encode(self, params: ListParams) -> str:
        raw = orjson.dumps([self.offset, self.keys, params.sort or "", params.filter_fingerprint()])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, token: str, params: ListParams) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            offset, keys, sort, fingerprint = orjson.loads(raw)
            valid = isinstance(offset, int) and isinstance(keys, list) and 0 <= offset <= MAX_OFFSET
        except (ValueError, TypeError, orjson.JSONDecodeError):
            valid = False
        if not valid:
            raise InvalidParameter(
                "cursor", "is not a cursor from this API; follow a `next` link as given", token
            )
        if sort != (params.sort or "") or fingerprint != params.filter_fingerprint():
            raise InvalidParameter(
                "cursor", "was made for another sort or other filters; start again without `cursor`", token
            )
        return cls(offset, keys)


@dataclass(slots=True)  # one per request: not frozen, which costs a call per field to build
class Page:
    # The items encoded for the response (JSON, or a CSV line for CSV): one piece each, or, from SQLite's
    # lists, all in one piece joined by the format's separator (`formats.ITEM_SEPARATORS`).
    docs: list[bytes]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None
    next_offset: int | None = None  # for lists paged by offset only (search)

    @property
    def alone(self) -> bool:
        """Whether it is the first and the last page: no other page to link to."""
        return self.next_cursor is None and self.next_offset is None and self.offset <= 0


def page_links(base_url: str, query: str, page: Page) -> dict[str, str]:
    """URLs of the neighbouring pages: the request's own query string as the client sent it, with only
    `offset` and `cursor` replaced."""
    kept = "&".join(
        part
        for part in query.split("&")
        if part and unquote_plus(part.split("=", 1)[0]) not in ("offset", "cursor")
    )
    base = f"{base_url}?{kept}&" if kept else f"{base_url}?"
    links = {}
    if page.next_cursor is not None:
        links["next"] = f"{base}cursor={page.next_cursor}"
    elif page.next_offset is not None:
        links["next"] = f"{base}offset={page.next_offset}"
    if page.offset > 0:
        previous = max(0, page.offset - page.limit)
        links["prev"] = f"{base}offset={previous}" if previous else base.rstrip("?&")
        links["first"] = base.rstrip("?&")
    return links


def link_header(links: dict[str, str]) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())
