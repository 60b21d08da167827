"""Each record's CSV line is stored next to its JSON document (`csv`), made once by the loader.

A CSV page is then read and joined like a JSON page instead of being made from the documents per request
(BENCH.md). Rows already there get an empty line on the way; the API refuses a database loaded at an
earlier revision until it is loaded again, which fills them in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("article", "person", "unit", "place", "event", "quote", "figure")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("csv", sa.LargeBinary(), nullable=False, server_default=""))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("csv", server_default=None)
        if op.get_bind().dialect.name == "postgresql":
            # A row over ~2 kB is made smaller by compressing its largest column first: with the line
            # added, that was the document of a third of the quotes, which every JSON read would then
            # decompress. The line goes out of the row first instead (uncompressed: only CSV reads
            # fetch it), and the document stays as it is unless the row is still too large.
            op.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN doc SET STORAGE MAIN, ALTER COLUMN csv SET STORAGE EXTERNAL'
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("csv")
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN doc SET STORAGE EXTENDED')
