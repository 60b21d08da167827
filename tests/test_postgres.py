"""PostgreSQL as the shared backend: loads are atomic, readers never see half a load, and several API
replicas serve one database. Each test works in a schema of its own (the API suite shares `public`)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app import database, loader
from app.dialects import POSTGRES_SEARCH_TABLES
from app.loader import load
from app.models import TABLE_ORDER
from app.settings import PROJECT_DIR, Settings, load_settings
from bench.corpus import generate
from tests.conftest import REAL_SEEDS, api_client, copy_seeds
from tests.live_server import live_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _settings(url: str, seeds: Path) -> Settings:
    return load_settings(database_url=url, seeds_dir=seeds, log_level="warning")


def _counts(url: str) -> tuple[int, str]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        people = connection.execute("SELECT count(*) FROM person").fetchone()
        version = connection.execute("SELECT value FROM dataset WHERE key = 'version'").fetchone()
    assert people is not None and version is not None
    return int(people[0]), str(version[0])


def test_a_killed_load_is_rolled_back_and_the_previous_data_stays(schema_url: str, tmp_path: Path) -> None:
    load(_settings(schema_url, REAL_SEEDS))
    before = _counts(schema_url)
    big = generate(tmp_path / "big", 1200)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "load", "--quiet", "--seeds", str(big), "--database-url", schema_url],
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conninfo = (
        make_url(schema_url).set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    )
    deadline = time.monotonic() + 120
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        while True:  # wait until the loader is copying rows inside its transaction
            busy = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %'"
            ).fetchone()
            if busy and busy[0]:
                break
            assert process.poll() is None, "the load ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(0.5)  # the server notices the lost connection and rolls back
    assert _counts(schema_url) == before


def test_readers_see_the_old_data_or_the_new_never_half(schema_url: str, tmp_path: Path) -> None:
    small, larger = REAL_SEEDS, copy_seeds(tmp_path / "seeds")
    load(_settings(schema_url, small))
    old = _counts(schema_url)
    seen: set[tuple[int, str]] = set()
    stop = threading.Event()

    def read() -> None:
        conninfo = make_url(schema_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            while not stop.is_set():
                with connection.transaction():
                    connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    people = connection.execute("SELECT count(*) FROM person").fetchone()
                    version = connection.execute("SELECT value FROM dataset WHERE key = 'version'").fetchone()
                    if people and version:
                        seen.add((int(people[0]), str(version[0])))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        load(_settings(schema_url, larger))
        load(_settings(schema_url, small))
        load(_settings(schema_url, larger))
    finally:
        stop.set()
        reader.join()
    new = _counts(schema_url)
    assert new != old
    assert seen <= {old, new}, f"a reader saw a mix: {seen - {old, new}}"


def test_a_database_migrated_by_a_newer_version_is_refused_with_a_message_not_a_traceback(
    schema_url: str,
) -> None:
    settings = _settings(schema_url, REAL_SEEDS)
    load(settings)
    before = _counts(schema_url)
    conninfo = make_url(schema_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:  # as if a later version had migrated it
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(loader.LoadError, match=r"newer version of newsfacts.*'0099'.*Nothing was changed"):
        load(settings)
    assert _counts(schema_url) == before


def test_documents_stay_uncompressed_in_their_rows_and_csv_lines_go_out_first(schema_url: str) -> None:
    """PostgreSQL shrinks a row over ~2 kB by compressing its largest column first, which would be the
    document a JSON read then decompresses; the CSV line is moved out of the row instead."""
    load(_settings(schema_url, REAL_SEEDS))
    schema = make_url(schema_url).query["options"].split("=")[1].split(",")[0]  # type: ignore[union-attr]
    conninfo = make_url(schema_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        storage = connection.execute(
            "SELECT c.relname, a.attname, a.attstorage FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND a.attname IN ('doc', 'csv')",
            [schema],
        ).fetchall()
        # Compressed documents, in rows that would fit in ~2 kB without their line: none.
        compressed = connection.execute(
            "SELECT count(*) FROM quote WHERE pg_column_compression(doc) IS NOT NULL "
            "AND length(doc) + length(text) + length(id) + length(article_id) + 100 < 2000"
        ).fetchone()
    assert compressed == (0,)
    tables = {"article", "person", "unit", "place", "event", "quote", "figure"}
    assert {(table, column, kind) for table, column, kind in storage} == {
        (table, column, kind) for table in tables for column, kind in (("doc", "m"), ("csv", "e"))
    }


def test_a_reload_clears_away_the_previous_rows_before_it_returns(schema_url: str) -> None:
    settings = _settings(schema_url, REAL_SEEDS)
    load(settings)
    stages: list[str] = []
    summary = load(settings, progress=lambda stage, done, total: stages.append(stage))
    tables = (*TABLE_ORDER, *POSTGRES_SEARCH_TABLES)  # the models' and search's words and lengths
    assert stages[stages.index("writing rows") :].count("clearing old rows") == len(tables)
    schema = make_url(schema_url).query["options"].split("=")[1].split(",")[0]  # type: ignore[union-attr]
    conninfo = make_url(schema_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        counts = connection.execute(
            "SELECT relname, vacuum_count, n_mod_since_analyze FROM pg_stat_user_tables WHERE schemaname = %s",
            [schema],
        ).fetchall()
        rows = connection.execute("SELECT count(*) FROM quote").fetchone()
    vacuumed = {name: vacuums for name, vacuums, _ in counts}
    unanalyzed = {name: changes for name, _, changes in counts if changes}
    # The second load deleted the first one's rows; VACUUM has cleared them, not autovacuum later on,
    # and autovacuum has no rows left to analyze either (it would, a minute later, while the API serves).
    assert set(tables) <= set(vacuumed)
    assert all(vacuumed[name] >= 2 for name in tables), vacuumed
    assert unanalyzed == {}
    assert rows is not None and rows[0] == summary.counts["quote"] == 10  # the article's quotes, once


def _may_checkpoint(conninfo: str) -> bool:
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT rolsuper OR pg_has_role(current_user, 'pg_checkpoint', 'USAGE') FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
    assert row is not None
    return bool(row[0])


def _load_noting_stages(url: str) -> tuple[list[str], loader.LoadSummary]:
    stages: list[str] = []
    summary = load(_settings(url, REAL_SEEDS), progress=lambda stage, done, total: stages.append(stage))
    return stages, summary


def test_a_large_load_ends_with_a_checkpoint_where_the_role_may_run_one(
    schema_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Otherwise the checkpoint a large load sets off writes it out over the minutes the API then serves.
    monkeypatch.setattr(loader, "CHECKPOINT_AFTER_WAL_BYTES", 0)  # the article's load counts as large
    conninfo = make_url(schema_url).set(drivername="postgresql").render_as_string(hide_password=False)
    loaded_up_to: list[str] = []
    checkpoint = loader._checkpoint

    def checkpoint_after_noting_the_wal_position(engine: Any, started_at: str, progress: Any) -> None:
        with engine.connect() as connection:
            loaded_up_to.append(connection.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar())
        checkpoint(engine, started_at, progress)

    monkeypatch.setattr(loader, "_checkpoint", checkpoint_after_noting_the_wal_position)
    with caplog.at_level(logging.WARNING, logger="newsfacts.loader"):
        stages, _ = _load_noting_stages(schema_url)
    if _may_checkpoint(conninfo):  # CI grants pg_checkpoint to its role
        with psycopg.connect(conninfo) as connection:
            row = connection.execute(
                "SELECT redo_lsn >= %s::pg_lsn FROM pg_control_checkpoint()", loaded_up_to
            ).fetchone()
        assert row is not None and row[0], "the last checkpoint began before the load's last write"
        assert stages[-2:] == ["writing to disk", "writing to disk"]
    else:
        assert "writing to disk" not in stages
        assert "let the loading role run CHECKPOINT: GRANT pg_checkpoint TO" in caplog.text


def test_a_role_that_may_not_checkpoint_is_told_how_to_let_it(
    schema_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(loader, "CHECKPOINT_AFTER_WAL_BYTES", 0)
    monkeypatch.setattr(loader, "_MAY_CHECKPOINT", "SELECT false")  # as for a role without pg_checkpoint
    with caplog.at_level(logging.WARNING, logger="newsfacts.loader"):
        stages, summary = _load_noting_stages(schema_url)
    assert "writing to disk" not in stages and summary.counts["quote"] == 10
    user = make_url(schema_url).username
    assert f"let the loading role run CHECKPOINT: GRANT pg_checkpoint TO {user}" in caplog.text


def test_a_small_load_neither_checkpoints_nor_warns(
    schema_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The article's ~2 MB of WAL are nothing for PostgreSQL to catch up on, whatever the role may do.
    monkeypatch.setattr(loader, "_MAY_CHECKPOINT", "SELECT false")
    with caplog.at_level(logging.WARNING, logger="newsfacts.loader"):
        stages, summary = _load_noting_stages(schema_url)
    assert "writing to disk" not in stages and summary.counts["quote"] == 10
    assert "CHECKPOINT" not in caplog.text


def test_two_replicas_serve_one_database_and_both_follow_a_reload(schema_url: str, tmp_path: Path) -> None:
    settings = _settings(schema_url, REAL_SEEDS)
    load(settings)
    with live_server(settings) as first, live_server(settings, extra_env={"DB_POOL_SIZE": "2"}) as second:
        versions = {httpx.get(f"{base}/health").json()["dataset"]["version"] for base in (first, second)}
        assert len(versions) == 1
        for base in (first, second):
            quotes = httpx.get(f"{base}/quotes", params={"speaker": "pavel-kulazhanka"}).json()
            assert [q["id"] for q in quotes["items"]] == [
                "kulazhanka-independent-ukraine",
                "kulazhanka-first-stop",
            ]
        load(_settings(schema_url, copy_seeds(tmp_path / "seeds")))
        after = {httpx.get(f"{base}/health").json()["dataset"]["version"] for base in (first, second)}
        assert len(after) == 1
        assert after != versions
        for base in (first, second):
            assert httpx.get(f"{base}/people/test-spokesman").status_code == 200


# -- the fast path's statements: one round trip each, each saying which dataset it read ---------------


def _commit_version(url: str, version: str) -> None:
    """What a load's commit does to a reader in the middle of a request: a new dataset version."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("UPDATE dataset SET value = %s WHERE key = 'version'", [version])


@pytest.fixture
def loaded_schema(schema_url: str) -> Settings:
    settings = _settings(schema_url, REAL_SEEDS)
    load(settings)
    return settings


def _loads_after_statements(monkeypatch: pytest.MonkeyPatch, url: str, after: set[int]) -> list[str]:
    """Commit a new version after each statement numbered in `after` (from 1); the statements begun."""
    run: list[str] = []
    all_rows = database._StampedSnapshot.all

    async def all_then_load(self: Any, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        run.append(sql)
        rows = await all_rows(self, sql, params)
        if len(run) in after:
            _commit_version(url, f"{len(run):016x}feedface")
        return rows

    monkeypatch.setattr(database._StampedSnapshot, "all", all_then_load)
    return run


@pytest.mark.anyio
async def test_a_request_whose_statements_straddle_a_load_is_answered_again_from_the_new_dataset(
    loaded_schema: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _loads_after_statements(monkeypatch, loaded_schema.database_url, after={1})
    async for client in api_client(loaded_schema):
        response = await client.get("/quotes", params={"speaker": "pavel-kulazhanka", "limit": 1})
    assert response.status_code == 200
    assert len(run) == 4  # the page and the count of his quotes, read twice
    # Labelled with the dataset it was (re)read from, and whole: the first of his two quotes.
    assert response.headers["etag"].startswith('"0000000000000001-')
    body = response.json()
    assert [(q["id"], q["speaker"]["name"]) for q in body["items"]] == [
        ("kulazhanka-independent-ukraine", "Pavel Kulazhanka")
    ]
    assert body["total"] == 2 and body["next"]


@pytest.mark.anyio
async def test_the_pool_opens_its_connections_at_start_and_keeps_them(loaded_schema: Settings) -> None:
    """A new replica's first burst of requests does not wait for connections to be made: the pool opens
    DB_POOL_SIZE of them in the background as it starts, and answering does not open more."""
    db = database.create_database(loaded_schema.model_copy(update={"db_pool_size": 3}))
    assert isinstance(db, database.PostgresDatabase)
    await db.open()
    try:
        await db.pool.wait(timeout=10)  # full: all of its connections made
        assert (db.pool.get_stats()["pool_size"], db.pool.get_stats()["pool_available"]) == (3, 3)
        async with db.statements() as snapshot:
            rows = await snapshot.all(
                "SELECT text FROM quote WHERE speaker_id = %s ORDER BY start", ["pavel-kulazhanka"]
            )
        assert [text for (text,) in rows] == [
            "Without an independent Ukraine, there will be no independent Belarus",
            "Ukraine is my first stop. The second stop will be Belarus.",
        ]
        assert db.pool.get_stats()["pool_size"] == 3
    finally:
        await db.close()


@pytest.mark.anyio
async def test_an_empty_page_is_labelled_with_the_dataset_it_was_read_from(loaded_schema: Settings) -> None:
    version = _counts(loaded_schema.database_url)[1]
    async for client in api_client(loaded_schema):
        response = await client.get("/quotes", params={"speaker": "nobody-at-all"})
    assert response.status_code == 200 and response.json()["items"] == []
    assert response.headers["etag"].startswith(f'"{version[:16]}-')


@pytest.mark.anyio
async def test_a_page_found_empty_just_before_a_load_is_read_again_with_its_version(
    loaded_schema: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty result says nothing of its dataset: it is read again in a transaction with the version,
    so that the page of a dataset loaded meanwhile is not sent as the empty page of the one before."""
    conninfo = (
        make_url(loaded_schema.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    his = ("kulazhanka-independent-ukraine", "kulazhanka-first-stop")

    def give_his_quotes_to(speaker: str, version: str | None = None) -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection, connection.transaction():
            connection.execute("UPDATE quote SET speaker_id = %s WHERE id = ANY(%s)", [speaker, list(his)])
            if version:
                connection.execute("UPDATE dataset SET value = %s WHERE key = 'version'", [version])

    give_his_quotes_to("ilya-ponomarev")  # a dataset in which Kulazhanka said nothing
    fetch = database._fetch

    async def fetch_then_load(connection: Any, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        rows = await fetch(connection, sql, params)
        if "stamped" in sql and not rows:  # a load commits the dataset in which he did
            give_his_quotes_to("pavel-kulazhanka", version="feedfacefeedface")
        return rows

    monkeypatch.setattr(database, "_fetch", fetch_then_load)
    async for client in api_client(loaded_schema):
        response = await client.get("/quotes", params={"speaker": "pavel-kulazhanka"})
    assert response.status_code == 200
    assert [q["id"] for q in response.json()["items"]] == list(his)
    assert response.headers["etag"].startswith('"feedfacefeedface-')


@pytest.mark.anyio
async def test_a_dataset_that_keeps_changing_under_a_request_is_a_503_to_retry(
    loaded_schema: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _loads_after_statements(monkeypatch, loaded_schema.database_url, after=set(range(1, 100)))
    async for client in api_client(loaded_schema):
        response = await client.get("/quotes", params={"speaker": "pavel-kulazhanka", "limit": 1})
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "a new dataset was loaded while this request read the previous one" in response.json()["detail"]


# -- search ranks in memory from each word's entries: never from a previous load -------------------------


def _found(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(hit["kind"], hit["id"]) for hit in body["items"]]


@pytest.mark.anyio
@pytest.mark.parametrize("fast_path", [True, False], ids=["statements", "transaction"])
async def test_a_reload_is_searched_at_once_though_the_words_were_kept(
    schema_url: str, tmp_path: Path, fast_path: bool
) -> None:
    """Words found nowhere, and words found, are kept by the worker that searched them; a load replaces
    them all, whichever way the request reads (the fast path's statements or the routes' transaction)."""
    load(_settings(schema_url, REAL_SEEDS))
    async for client in api_client(_settings(schema_url, REAL_SEEDS), fast_path=fast_path):
        before = [(await client.get("/search", params={"q": q})).json() for q in ("spokesman", "kulazh")]
        load(_settings(schema_url, copy_seeds(tmp_path / "seeds")))  # the fixture article, with its spokesman
        after = [(await client.get("/search", params={"q": q})).json() for q in ("spokesman", "kulazh")]
    assert before[0]["total"] == 0 and before[0]["items"] == []
    assert ("person", "test-spokesman") in _found(after[0])
    assert any("<mark>spokesman</mark>" in hit["snippet"] for hit in after[0]["items"])
    assert _found(before[1])[0] == _found(after[1])[0] == ("person", "pavel-kulazhanka")


@pytest.mark.anyio
async def test_a_search_ranked_from_words_kept_before_a_load_is_answered_again_from_the_new_one(
    loaded_schema: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path ranks kept words before any statement says which dataset it reads; the page's
    statement then does, and a search ranked from another dataset's words is answered again."""
    async for client in api_client(loaded_schema):
        first = await client.get("/search", params={"q": "kulazh"})
        _commit_version(loaded_schema.database_url, "feedfacefeedface")  # a load, between two searches
        run = _loads_after_statements(monkeypatch, loaded_schema.database_url, after=set())
        again = await client.get("/search", params={"q": "kulazh"})
    assert again.status_code == 200
    assert again.headers["etag"].startswith('"feedfacefeedface-')
    # The page read with the kept words (1), then the lengths, the word and the page read anew (2-4), and
    # PostgreSQL's headlines of the texts `app.headlines` declines, learnt anew for the new dataset (5).
    assert len(run) == 5 and "search_length" in run[1] and "search_word" in run[2]
    assert "CASE WHEN" in run[3] and "CASE WHEN" not in run[4] and "ts_headline" in run[4]
    assert again.json()["items"] == first.json()["items"]
    assert _found(again.json())[0] == ("person", "pavel-kulazhanka")
