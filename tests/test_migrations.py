"""The Alembic migrations and the SQLModel models describe the same schema, on both backends."""

from pathlib import Path

import pytest
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


def test_search_entry_ids_carry_their_kind_and_follow_kind_then_id_order(sqlite_settings: object) -> None:
    import sqlite3

    from app.search_kinds import SEARCH_KIND_CODES, SEARCH_KIND_MODULUS
    from app.settings import Settings

    assert isinstance(sqlite_settings, Settings)
    with sqlite3.connect(sqlite_settings.sqlite_path) as connection:
        entries = connection.execute("SELECT id, kind, entity_id FROM search_entry ORDER BY id").fetchall()
    assert {kind for _, kind, _ in entries} == set(SEARCH_KIND_CODES)
    assert all(ident % SEARCH_KIND_MODULUS == SEARCH_KIND_CODES[kind] for ident, kind, _ in entries)
    assert [(kind, entity) for _, kind, entity in entries] == sorted(
        (kind, entity) for _, kind, entity in entries
    )


def test_upgrading_a_loaded_0001_database_renumbers_its_search_entries(tmp_path: Path) -> None:
    import sqlite3

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", poolclass=pool.NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.exec_driver_sql(
            "INSERT INTO search_entry (id, kind, entity_id, label, body) VALUES "
            "(1, 'unit', 'kalinouski-regiment', 'Kalinouski Regiment', 'Kalinouski Regiment'), "
            "(2, 'person', 'vasyl-parfenkov', 'Vasyl Parfenkov', 'Vasyl Parfenkov, a volunteer')"
        )
        connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        command.upgrade(alembic_config(connection), "head")
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT id, entity_id FROM search_entry ORDER BY id").fetchall() == [
            (1 * 8 + 3, "vasyl-parfenkov"),
            (2 * 8 + 6, "kalinouski-regiment"),
        ]
        hit = db.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH 'volunteer'").fetchall()
        assert hit == [(11,)]
        with pytest.raises(sqlite3.IntegrityError, match="ck_search_entry_kind_code"):
            db.execute("INSERT INTO search_entry VALUES (17, 'quote', 'q', 'l', 'b')")


def test_upgrading_a_loaded_0002_database_adds_empty_csv_lines_that_a_load_must_fill(tmp_path: Path) -> None:
    """Rows loaded before 0003 get an empty line (the API refuses such a database until it is loaded
    again: its recorded revision is still 0002); new rows must bring their own, as the loader's do."""
    import sqlite3

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", poolclass=pool.NullPool)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.exec_driver_sql(
            "INSERT INTO place (id, name, sort_name, kind, country, doc) "
            "VALUES ('minsk', 'Minsk', 'minsk', 'city', 'belarus', X'7B7D')"
        )
        command.upgrade(alembic_config(connection), "head")
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT id, doc, csv FROM place").fetchall() == [("minsk", b"{}", "")]
        with pytest.raises(sqlite3.IntegrityError, match=r"NOT NULL constraint failed: place\.csv"):
            db.execute(
                "INSERT INTO place (id, name, sort_name, kind, country, doc) "
                "VALUES ('kyiv', 'Kyiv', 'kyiv', 'city', 'ukraine', X'7B7D')"
            )
