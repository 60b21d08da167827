"""Alembic environment: migrations run against the models' metadata on either backend.

The loader passes its own connection in `config.attributes["connection"]` so that migrating and loading
happen in one transaction (PostgreSQL) or on one temporary file (SQLite). Run by hand, Alembic connects
to DATABASE_URL.
"""

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from app.dialects import include_object
from app.models import metadata
from app.settings import load_settings

config = context.config


def _configure(connection: Connection) -> None:
    # On PostgreSQL the tables go to the first schema of the search path: look for the version table
    # there too, not in any schema the path can see (a `public` already migrated would hide a new one).
    schema = (
        connection.exec_driver_sql("SELECT current_schema()").scalar()
        if connection.dialect.name == "postgresql"
        else None
    )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
        version_table_schema=schema,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or load_settings().database_url,
        target_metadata=metadata,
        literal_binds=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as new_connection:
        _configure(new_connection)
        new_connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
