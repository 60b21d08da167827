"""The schema revision this version of the code reads and writes.

Kept here, not read from `migrations/` at start-up: importing Alembic would add half a second to every
start of the API. `tests/test_migrations.py` checks that it is Alembic's head.
"""

SCHEMA_REVISION = "0006"
