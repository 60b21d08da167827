"""PostgreSQL: each word's entries, written at load time, so that search ranks its matches in memory.

`ts_rank_cd` scores every match of a query in the database, reading each one's `tsvector` from the heap:
~2.5 ms a search on average on the benchmark's corpus of a million facts, 55 ms for a short prefix that
matches 22,000 entries, and a p99 of ~200 ms at 16 connections (BENCH-HISTORY.md: the twentieth round). These two
tables hold what ranking needs instead, read once per word by each worker (`app.search_index`):

- `search_word`: every word of the `document` column, with the entries that hold it (ascending ids) and,
  in each, its occurrences weighted as search weighs them (10 in a label, 1 in a body), both as arrays of
  big-endian 4-byte integers;
- `search_length`: one row, every entry's id and its length in words.

The loader fills them from the `document` column itself (`app.dialects.POSTGRES_SEARCH_WORDS`), so a
word matches exactly the entries `document @@ to_tsquery(…)` matches. SQLite reads the same from FTS5's
own index and needs neither; since migration 0006 it keeps `search_word` too, filled from that index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Their names are in app.dialects.BACKEND_OBJECTS, which keeps them out of the models' comparison.
TABLES = {
    # COLLATE "C": a prefix's words are a range of bytes (`word >= 'lovi' AND word < 'lovj'`).
    "search_word": 'word text COLLATE "C" PRIMARY KEY, entries bytea NOT NULL, counts bytea NOT NULL',
    "search_length": "entries bytea NOT NULL, lengths bytea NOT NULL",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, columns in TABLES.items():
            op.execute(f"CREATE TABLE {name} ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TABLES:
            op.execute(f"DROP TABLE {name}")
