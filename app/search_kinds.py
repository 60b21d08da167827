"""The kinds of record search covers, and how a search entry's id carries its kind.

Here rather than in `app.models` so that the server, which needs these numbers on every search, does not
import the ORM: SQLModel, SQLAlchemy and the table definitions take a quarter of a second at start-up.
"""

from __future__ import annotations

SEARCH_KINDS = ("person", "unit", "place", "event", "quote", "figure", "article")

# A search entry's id modulo 8 is its kind's code, and ids follow (kind, entity id) order:
# full-text search ranks and filters matches by kind from the id alone, without reading each entry.
SEARCH_KIND_CODES = {kind: code for code, kind in enumerate(sorted(SEARCH_KINDS))}
SEARCH_KIND_MODULUS = 8
SEARCH_KIND_OF_CODE = {code: kind for kind, code in SEARCH_KIND_CODES.items()}


def search_entry_id(number: int, kind: str) -> int:
    """The id of the `number`-th entry (counting in (kind, entity id) order from 1)."""
    return number * SEARCH_KIND_MODULUS + SEARCH_KIND_CODES[kind]
