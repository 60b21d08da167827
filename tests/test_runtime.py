"""The server only reads, and no request can hold it: read-only connections and a time budget."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import httpx
import orjson
import pytest

from app import queries
from app.database import DatabaseUnavailable, QueryTimeout, SqliteDatabase
from app.main import create_app
from app.params import QuoteParams
from app.settings import Settings
from tests.conftest import synthetic_settings_in

pytestmark = pytest.mark.anyio


async def test_a_write_through_the_apps_own_connection_fails(backend_settings: Settings) -> None:
    app = create_app(backend_settings)
    database = app.state.database
    async with app.router.lifespan_context(app):
        async with database.snapshot() as snapshot:
            before = await snapshot.all("SELECT count(*) FROM person")
        for statement in (
            "INSERT INTO dataset (key, value) VALUES ('intruder', 'x')",
            "DELETE FROM person",
            "UPDATE quote SET text = 'changed'",
            "DROP TABLE evidence",
        ):
            with pytest.raises(Exception, match=r"(?i)read-?only") as caught:
                async with database.snapshot() as snapshot:
                    await snapshot.all(statement)
            assert "QueryTimeout" not in repr(caught.value)
        async with database.snapshot() as snapshot:
            assert await snapshot.all("SELECT count(*) FROM person") == before
            if backend_settings.backend == "sqlite":
                assert await snapshot.all("PRAGMA query_only") == [(1,)]


async def test_a_speakers_quotes_and_csv_pages_are_read_from_an_index_alone(
    sqlite_settings: Settings,
) -> None:
    """On SQLite the two quote lists that matter most read no table row (migration 0004): one speaker's
    quotes come from an index holding their documents, CSV pages in list order from one holding the lines.
    The rows go in index order, as a co-routine (no sort), to `group_concat`: a page's items arrive as one
    value, joined as the response joins them."""
    database = SqliteDatabase(sqlite_settings.sqlite_path, timeout=5)
    statements: list[str] = []
    async with database.snapshot() as snapshot:
        snapshot.connection.set_trace_callback(statements.append)  # each statement, its values filled in
        by_speaker = await queries.list_records(
            snapshot, "quote", QuoteParams(speaker="pavel-kulazhanka"), "json"
        )
        page_query = statements[-1]
        csv_page = await queries.list_records(snapshot, "quote", QuoteParams(limit=3, format="csv"), "csv")
        csv_query = statements[-2]  # then the last row's keys, for the cursor
        snapshot.connection.set_trace_callback(None)
        plans = [
            " ".join(row[-1] for row in await snapshot.all(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in (page_query, csv_query)
        ]
        lines = await snapshot.all("SELECT csv FROM quote NOT INDEXED ORDER BY article_id, start, id LIMIT 3")
    await database.close()
    assert plans == [
        "CO-ROUTINE (subquery-1) SEARCH quote USING COVERING INDEX ix_quote_speaker_page (speaker_id=?) "
        "SCAN (subquery-1)",
        "CO-ROUTINE (subquery-1) SCAN quote USING COVERING INDEX ix_quote_position_csv SCAN (subquery-1)",
    ]
    assert [item["text"] for item in orjson.loads(b"[" + b",".join(by_speaker.docs) + b"]")] == [
        "Without an independent Ukraine, there will be no independent Belarus",
        "Ukraine is my first stop. The second stop will be Belarus.",
    ]
    assert b"".join(csv_page.docs) == b"".join(line for (line,) in lines)
    assert csv_page.next_cursor is not None


@pytest.fixture(scope="module")
def synthetic_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A few thousand synthetic facts: enough for a search to take many SQLite steps."""
    return synthetic_settings_in(tmp_path_factory.mktemp("synthetic"), 40)


async def test_a_request_over_its_time_budget_gets_503_and_the_server_goes_on(
    synthetic_settings: Settings,
) -> None:
    app = create_app(synthetic_settings.model_copy(update={"request_timeout": 1e-6}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        slow, health = await asyncio.gather(client.get("/search", params={"q": "the"}), client.get("/health"))
        assert slow.status_code == 503
        assert slow.json()["code"] == "timeout"
        assert slow.headers["retry-after"] == "1"
        assert health.status_code == 200
        assert (await client.get("/search", params={"q": "the"})).status_code == 503


async def test_postgres_statements_are_cut_off_at_the_budget(postgres_settings: Settings) -> None:
    app = create_app(postgres_settings.model_copy(update={"request_timeout": 0.2}))
    async with app.router.lifespan_context(app):
        with pytest.raises(QueryTimeout):
            async with app.state.database.snapshot() as snapshot:
                await snapshot.all("SELECT pg_sleep(2)")
        async with app.state.database.snapshot() as snapshot:
            assert await snapshot.all("SELECT 1") == [(1,)]


async def test_the_server_follows_the_file_it_serves_replaced_rewritten_or_removed(
    tmp_path: Path, sqlite_settings: Settings
) -> None:
    """A new load renames a new file over the old one; someone may also copy one over it, or delete it.
    Each turn of the event loop checks the file once (the next test), so each change is read in the next."""
    real = sqlite_settings.sqlite_path
    small = synthetic_settings_in(tmp_path / "small", 3).sqlite_path
    served = tmp_path / "served.db"
    shutil.copyfile(real, served)
    database = SqliteDatabase(served, timeout=5)

    async def version_and_people() -> tuple[str, int]:
        async with database.snapshot() as snapshot:
            return snapshot.info.version, (await snapshot.all("SELECT count(*) FROM person"))[0][0]

    await database.open()
    real_version, real_people = await version_and_people()
    connection = database._connection
    assert await version_and_people() == (real_version, real_people)
    assert database._connection is connection  # nothing changed: the same connection

    shutil.copyfile(small, tmp_path / "next.db")
    os.replace(tmp_path / "next.db", served)  # what the loader does
    await asyncio.sleep(0)
    small_version, small_people = await version_and_people()
    assert small_version != real_version and small_people != real_people

    shutil.copyfile(real, served)  # rewritten in place: same file, new content
    await asyncio.sleep(0)
    assert await version_and_people() == (real_version, real_people)

    served.unlink()
    await asyncio.sleep(0)
    with pytest.raises(DatabaseUnavailable, match="no database at"):
        await version_and_people()
    await database.close()


async def test_the_file_is_checked_once_a_turn_of_the_event_loop(
    tmp_path: Path, sqlite_settings: Settings
) -> None:
    """The requests one turn of the event loop handles all arrived before its first check, so they share
    it, queries and the response cache alike; the next turn sees a new load."""
    served = tmp_path / "served.db"
    shutil.copyfile(sqlite_settings.sqlite_path, served)
    small = synthetic_settings_in(tmp_path / "small", 3).sqlite_path
    database = SqliteDatabase(served, timeout=5)
    await database.open()
    loaded = (await database.current()).version
    shutil.copyfile(small, tmp_path / "next.db")
    os.replace(tmp_path / "next.db", served)
    assert (await database.current()).version == loaded  # the same turn
    async with database.snapshot() as snapshot:
        assert snapshot.info.version == loaded
        (people,) = (await snapshot.all("SELECT count(*) FROM person"))[0]
    await asyncio.sleep(0)
    assert (await database.current()).version != loaded
    async with database.snapshot() as snapshot:
        assert snapshot.info.version != loaded
        assert (await snapshot.all("SELECT count(*) FROM person"))[0][0] != people
    await database.close()


async def test_while_served_the_file_cannot_be_changed_under_a_request(
    tmp_path: Path, sqlite_settings: Settings
) -> None:
    """The server keeps its read lock (loads rename a new file over it instead), so a writer is refused
    and every request reads the whole of one dataset."""
    import sqlite3

    served = tmp_path / "served.db"
    shutil.copyfile(sqlite_settings.sqlite_path, served)
    database = SqliteDatabase(served, timeout=5)
    await database.open()
    async with database.snapshot() as snapshot:
        people = await snapshot.all("SELECT count(*) FROM person")
    writer = sqlite3.connect(served, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"), writer:
            writer.execute("DELETE FROM person")
        async with database.snapshot() as snapshot:
            assert await snapshot.all("SELECT count(*) FROM person") == people
    finally:
        writer.close()
        await database.close()
    with sqlite3.connect(served) as reader:
        assert reader.execute("SELECT count(*) FROM person").fetchall() == people
