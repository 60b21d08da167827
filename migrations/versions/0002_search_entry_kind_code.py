"""Search entry ids carry their kind: `id % 8` is the kind's code, and ids follow (kind, entity id) order.

Full-text search then ranks and filters matches by kind from the id FTS5 returns, instead of reading
every matching entry (`app.dialects`). The constraint makes the loader keep the convention.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app.models.SEARCH_KIND_CONDITION reads at this revision (written out: a migration must not change).
CONDITION = (
    "id % 8 = CASE kind WHEN 'article' THEN 0 WHEN 'event' THEN 1 WHEN 'figure' THEN 2 "
    "WHEN 'person' THEN 3 WHEN 'place' THEN 4 WHEN 'quote' THEN 5 WHEN 'unit' THEN 6 END"
)


def upgrade() -> None:
    # Entries already there (a database loaded at 0001) are renumbered to the convention; a load then
    # replaces them anyway. Negative ids first, so no new id collides with an old one on the way.
    op.execute("UPDATE search_entry SET id = -id")
    op.execute(
        "UPDATE search_entry SET id = renumbered.new_id FROM (SELECT id AS old_id, "
        "row_number() OVER (ORDER BY kind, entity_id) * 8 + CASE kind WHEN 'article' THEN 0 "
        "WHEN 'event' THEN 1 WHEN 'figure' THEN 2 WHEN 'person' THEN 3 WHEN 'place' THEN 4 "
        "WHEN 'quote' THEN 5 WHEN 'unit' THEN 6 END AS new_id FROM search_entry) AS renumbered "
        "WHERE search_entry.id = renumbered.old_id"
    )
    if op.get_bind().dialect.name == "sqlite":  # the full-text index refers to entries by id
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    with op.batch_alter_table("search_entry", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_search_entry_kind_code"), CONDITION)


def downgrade() -> None:
    with op.batch_alter_table("search_entry", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_search_entry_kind_code"), type_="check")
