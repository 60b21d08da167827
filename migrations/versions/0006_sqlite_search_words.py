"""SQLite: each word's entries, written at load time, as PostgreSQL's are (migration 0005).

A search ranks its matches in memory from each query word's postings (`app.search_index`). On SQLite
they were read from FTS5's own index (`fts5vocab`) the first time a word was searched: ~0.4 ms a word
on the benchmark's corpus of a million facts, decoding every occurrence, 0.19 s for the 515 words of its
search scenario, ~3 % of that scenario's measured time under load and ~0.3 % on the corpus of 10,000
facts (BENCH.md, the thirty-sixth round). `search_word` holds them ready, in the same form as on
PostgreSQL: every word of the full-text index, with the entries that hold it (ascending ids) and, in each,
its occurrences weighted as search weighs them (10 in a label, 1 in a body), both as arrays of big-endian
4-byte integers. Read that way, the same words take 0.03 s.

The loader fills it from FTS5's index once that is complete (`app.search_index.search_words`), so
a word matches exactly the entries `search_fts MATCH` matches; ~1.2 s a load of that corpus. The entries'
lengths are still read from FTS5's `docsize` table, which already holds them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Its name is in app.dialects.BACKEND_OBJECTS, which keeps it out of the models' comparison. Keyed by
    # the word, in bytes' order: a prefix's words are a range (`word >= 'lovi' AND word < 'lovj'`).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TABLE search_word (word TEXT PRIMARY KEY, entries BLOB NOT NULL, counts BLOB NOT NULL) "
            "WITHOUT ROWID"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_word")
