"""The Alembic migrations and the SQLModel models describe the same schema, on both backends."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

from app.dialects import include_object
from app.loader import alembic_config, head_revision
from app.models import metadata
from tests.conftest import postgres_or_skip


def _diff(url: str) -> list[object]:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))


def test_sqlite_migration_head_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert _diff(url) == []


def test_postgres_migration_head_matches_the_models(postgres_settings: object) -> None:
    assert _diff(postgres_or_skip()) == []


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}", poolclass=pool.NullPool)
    with engine.begin() as connection:
        config = alembic_config(connection)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        command.upgrade(config, "head")
        assert {"person", "quote", "search_fts"} <= set(inspect(connection).get_table_names())


def test_the_loader_records_the_head_revision(sqlite_settings: object) -> None:
    import sqlite3

    from app.settings import Settings

    assert isinstance(sqlite_settings, Settings)
    with sqlite3.connect(sqlite_settings.sqlite_path) as connection:
        (revision,) = connection.execute("SELECT value FROM dataset WHERE key = 'revision'").fetchone()
    assert revision == head_revision()


def test_the_api_expects_the_migration_head() -> None:
    from app.revision import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION
