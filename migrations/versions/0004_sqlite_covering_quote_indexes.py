"""SQLite: the two quote lists that matter most read their pages from an index alone.

One speaker's quotes (JSON) and CSV pages of all quotes in list order are read from an index that holds,
in list order, what the page returns — the document, or the CSV line — instead of seeking each row in
the table: a few page reads instead of one per row. Measured alone on the benchmark's file of a million
facts, a speaker's page query 102 -> 42 µs, 500 CSV lines 0.42 -> 0.31 ms. The price is a second copy
of the quotes' documents and lines (~300 MB in that file) and ~1 s of index building at load time
(BENCH.md, eleventh round). The narrower indexes of the models stay, for counts and other orders.

PostgreSQL keeps its plain indexes: a B-tree entry there must fit in a third of a page (~2.7 kB), which
a long quote's document need not.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Their names are in app.dialects.BACKEND_OBJECTS, which keeps them out of the models' comparison.
INDEXES = {
    "ix_quote_speaker_page": "quote (speaker_id, article_id, start, id, doc)",
    "ix_quote_position_csv": "quote (article_id, start, id, csv)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, columns in INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {columns}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in INDEXES:
            op.execute(f"DROP INDEX {name}")
