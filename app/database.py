"""The API's read-only view of the database, on SQLite or PostgreSQL.

A request opens a `Snapshot`: one consistent view of one dataset version, with a time budget. The API
never writes, and says so to the database: SQLite is opened `mode=ro` with `query_only`, PostgreSQL
sessions default to read-only transactions.

SQLite queries run on the event loop itself. They are short (indexed lookups that copy stored JSON), and
a thread hop would cost more than most queries take; the time budget, enforced by SQLite's progress
handler, bounds how long any one of them can hold the loop. When the loader swaps in a new file, the
next turn of the event loop reopens: requests in flight finish on the old file. The file is checked
with `fstat` on a descriptor of the open file, once per turn (the requests a turn handles all arrived
before its first check): once the loader renames a new file over it, the old file has one link fewer
(none, usually), and a file rewritten in place has a new size or time. That check needs no path lookup,
so it costs half of a `stat` of the path. The connection keeps SQLite's shared lock for as long as it is
open, so no SQLite writer can change the file under a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from app.dialects import Dialect
from app.search_index import PostgresSearchIndex, SearchIndex
from app.settings import Settings
from app.transport import send_overdue


class DatabaseUnavailable(Exception):
    """No usable database: missing, damaged, or of another schema. The message says what to do."""


class QueryTimeout(Exception):
    """The request used up its time budget in the database."""


class DatasetChanged(DatabaseUnavailable):
    """A new dataset was committed between two statements of one request (PostgreSQL): answer it again."""

    def __init__(self) -> None:
        super().__init__("a new dataset was loaded while this request read the previous one; ask again")


@dataclass(frozen=True)
class DatasetInfo:
    version: str
    counts: dict[str, int]
    facts: int
    revision: str
    stats: dict[str, Any]
    loaded_at: float | None = None

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]], loaded_at: float | None = None) -> DatasetInfo:
        meta = {str(key): str(value) for key, value in rows}
        if "version" not in meta:
            raise DatabaseUnavailable("the database holds no dataset; build it with `python -m app load`")
        return cls(
            version=meta["version"],
            counts=json.loads(meta.get("counts", "{}")),
            facts=int(meta.get("facts", "0")),
            revision=meta.get("revision", ""),
            stats=json.loads(meta.get("stats", "{}")),
            loaded_at=loaded_at,
        )


class Snapshot(Protocol):
    dialect: Dialect

    @property
    def search_index(self) -> SearchIndex | None:
        """Full-text ranking in memory, or None: the database ranks."""
        ...

    @property
    def known_info(self) -> DatasetInfo | None:
        """The dataset read, if known without asking (not by `Database.statements` before the first)."""
        ...

    @property
    def info(self) -> DatasetInfo:
        """The dataset read; for `Database.statements`, once a statement has run (else `dataset()`)."""
        ...

    async def dataset(self) -> DatasetInfo:
        """The dataset read, or for a snapshot that has read nothing yet, the one being served."""
        ...

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class Database(Protocol):
    dialect: Dialect

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def current(self) -> DatasetInfo:
        """The dataset now being served; raises DatabaseUnavailable."""
        ...

    def snapshot(self) -> contextlib.AbstractAsyncContextManager[Snapshot]: ...

    def statements(self) -> contextlib.AbstractAsyncContextManager[Snapshot]:
        """A snapshot for the fast path: its `info` is known once a statement has run, and it may raise
        DatasetChanged, after which the request is answered again (`PostgresDatabase.statements`)."""
        ...


def _check_revision(info: DatasetInfo, expected: str | None) -> None:
    if expected and info.revision != expected:
        raise DatabaseUnavailable(
            f"the database has schema revision {info.revision or 'unknown'}, this version of the API "
            f"needs {expected}; rebuild it with `python -m app load`"
        )


# -- SQLite ---------------------------------------------------------------------------------------


@dataclass
class _SqliteSnapshot(contextlib.AbstractAsyncContextManager["_SqliteSnapshot"]):
    """Its own context manager (entering gives itself): cheaper per request than a generator-based one."""

    connection: sqlite3.Connection
    info: DatasetInfo
    dialect: Dialect
    owner: SqliteDatabase
    search_index: SearchIndex | None

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    @property
    def known_info(self) -> DatasetInfo:
        return self.info

    async def dataset(self) -> DatasetInfo:
        return self.info

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if self.owner.over_budget():
                raise QueryTimeout from exc
            raise


SNIPPETS_SCHEMA = "snippets"


@dataclass
class SqliteDatabase:
    path: Path
    timeout: float
    expected_revision: str | None = None
    search_index: SearchIndex | None = None
    snippet_cache_mb: int = 0
    dialect: Dialect = field(default_factory=lambda: Dialect("sqlite"))
    _connection: sqlite3.Connection | None = None
    _info: DatasetInfo | None = None
    _file: int | None = None  # our descriptor of the file the connection reads
    _file_state: tuple[int, int, int] = (0, 0, 0)  # its links, modification time and size when opened
    _deadline: float = 0.0
    _path_text: str = ""
    _checked_this_turn: bool = False
    _snapshot: _SqliteSnapshot | None = None

    def __post_init__(self) -> None:
        self._path_text = str(self.path)
        if self.snippet_cache_mb:
            self.dialect = Dialect("sqlite", snippets_schema=SNIPPETS_SCHEMA)

    async def open(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            self._refresh()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._file is not None:
            os.close(self._file)
            self._file = None

    def over_budget(self) -> bool:
        return time.monotonic() > self._deadline

    def _progress(self) -> int:
        # Called by SQLite every few thousand virtual-machine steps; non-zero interrupts the query. A long
        # query holds the event loop: the responses finished before it should not wait for it.
        send_overdue()
        return 1 if time.monotonic() > self._deadline else 0

    def _connect(self) -> tuple[sqlite3.Connection, DatasetInfo]:
        # mode=ro: SQLite refuses writes at the file level; query_only: and at the statement level.
        uri = f"file:{quote(str(self.path))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False, cached_statements=512)
        try:
            connection.execute("PRAGMA query_only = ON")
            # Keep the shared lock from the first read on. A load never writes the file we serve (it
            # renames a new one over it, which `_refresh` notices), so no one needs the lock back; and
            # without it SQLite takes and drops a lock, looks for a journal and re-reads the file's
            # header around every statement: eight system calls, half the time of a lookup by id.
            connection.execute("PRAGMA locking_mode = EXCLUSIVE")
            if self.snippet_cache_mb:
                # The same file a second time, for search's snippets (`Dialect.snippets_schema`): their
                # pages of FTS5's index and the articles' texts get a page cache of their own, instead of
                # evicting what lists read from the connection's 2 MB, and being evicted by it. Attached
                # here, so `_reopen`'s check that the path still names the file it opened covers it too.
                connection.execute(f"ATTACH DATABASE ? AS {SNIPPETS_SCHEMA}", (uri,))
                connection.execute(f"PRAGMA {SNIPPETS_SCHEMA}.cache_size = -{self.snippet_cache_mb * 1024}")
            rows = connection.execute("SELECT key, value FROM dataset").fetchall()
            info = DatasetInfo.from_rows(rows, loaded_at=self.path.stat().st_mtime)
            _check_revision(info, self.expected_revision)
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise DatabaseUnavailable(
                f"{self.path} is not a newsfacts database or is damaged ({exc}); rebuild it with "
                "`python -m app load`"
            ) from exc
        except DatabaseUnavailable:
            connection.close()
            raise
        connection.set_progress_handler(self._progress, 2000)
        return connection, info

    def _refresh(self) -> tuple[sqlite3.Connection, DatasetInfo]:
        """The connection to the current file, reopened when the loader has replaced it."""
        if self._file is not None:
            stat = os.fstat(self._file)
            if (stat.st_nlink, stat.st_mtime_ns, stat.st_size) == self._file_state:
                assert self._connection is not None and self._info is not None  # set with _file
                return self._connection, self._info
        return self._reopen()

    def _reopen(self) -> tuple[sqlite3.Connection, DatasetInfo]:
        for _ in range(3):  # the file may be replaced again while it is being opened
            try:
                descriptor = os.open(self._path_text, os.O_RDONLY)
            except FileNotFoundError:
                raise DatabaseUnavailable(
                    f"no database at {self.path}; build it with `python -m app load`"
                ) from None
            try:
                connection, info = self._connect()
            except BaseException:
                os.close(descriptor)
                raise
            opened = os.fstat(descriptor)
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self._path_text).st_ino == opened.st_ino:
                    break  # SQLite opened the file after us, and the path still names it: the same file
            connection.close()
            os.close(descriptor)
        else:
            raise DatabaseUnavailable(f"{self.path} keeps being replaced; try again once the load is done")
        if self._connection is not None:
            self._connection.close()
        if self._file is not None:
            os.close(self._file)
        self._connection, self._info, self._file = connection, info, descriptor
        self._file_state = (opened.st_nlink, opened.st_mtime_ns, opened.st_size)
        return connection, info

    def _checked(self) -> tuple[sqlite3.Connection, DatasetInfo]:
        """`_refresh`, once per turn of the event loop. The requests a turn handles all arrived before its
        first check, so that check is as fresh for them as one of their own; the next turn checks again
        (a response-cache hit is otherwise little more than this system call)."""
        if not self._checked_this_turn:
            checked = self._refresh()
            self._checked_this_turn = True
            asyncio.get_running_loop().call_soon(self._next_turn)
            return checked
        assert self._connection is not None and self._info is not None  # set by the check
        return self._connection, self._info

    def _next_turn(self) -> None:
        self._checked_this_turn = False

    async def current(self) -> DatasetInfo:
        """The dataset being served."""
        return self._checked()[1]

    def snapshot(self) -> _SqliteSnapshot:
        connection, info = self._checked()
        self._deadline = time.monotonic() + self.timeout
        snapshot = self._snapshot  # the same for every request until the file changes: made once
        if snapshot is None or snapshot.connection is not connection or snapshot.info is not info:
            snapshot = _SqliteSnapshot(connection, info, self.dialect, self, self.search_index)
            self._snapshot = snapshot
        return snapshot

    statements = snapshot  # one file, read under its lock: every snapshot is consistent and costs nothing


# -- PostgreSQL -----------------------------------------------------------------------------------


VERSION_SQL = "SELECT value FROM dataset WHERE key = 'version'"


async def _fetch(cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """`cursor`: its connection's (`PostgresDatabase._cursor`), which gives binary results: a list's
    documents (`bytea`, ~27 kB a page) come as they are, not as hex text for libpq to decode (~0.12 ms of
    the server's time a PostgreSQL list; BENCH.md, forty-first round)."""
    import psycopg

    try:
        await cursor.execute(sql, params, prepare=True)
        return list(await cursor.fetchall())
    except psycopg.errors.QueryCanceled as exc:
        raise QueryTimeout from exc


@dataclass
class _PostgresSnapshot:
    cursor: Any
    info: DatasetInfo
    dialect: Dialect
    search_index: SearchIndex | None

    @property
    def known_info(self) -> DatasetInfo:
        return self.info

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await _fetch(self.cursor, sql, params)

    async def dataset(self) -> DatasetInfo:
        return self.info


@dataclass
class _StampedSnapshot:
    """Statements that each say which dataset they read: one round trip each, where a transaction costs
    four (BEGIN, the version, the statement, COMMIT; ~430 against ~150 µs for a record by id).

    PostgreSQL runs each statement in a snapshot of its own; the version is read in that statement (a
    subquery, evaluated once), as its last column. The dataset version is a hash of the seeds, so two
    statements that report the same version read the same data, even had loads come and gone between
    them; if they differ, DatasetChanged. A statement that finds no rows reports nothing, so it is run
    again in a transaction with the version (an empty page must not be labelled with the wrong version).
    The outer query only adds a column to the rows of the inner one, which PostgreSQL passes through in
    their order.
    """

    cursor: Any
    owner: PostgresDatabase
    dialect: Dialect
    search_index: SearchIndex | None
    _info: DatasetInfo | None = None

    @property
    def known_info(self) -> DatasetInfo | None:
        return self._info

    @property
    def info(self) -> DatasetInfo:
        if self._info is None:
            raise RuntimeError("nothing read yet: ask `dataset()`")
        return self._info

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = await _fetch(self.cursor, f"SELECT *, ({VERSION_SQL}) FROM ({sql}) AS stamped", params)
        if rows:
            await self._read(rows[0][-1])
            return [row[:-1] for row in rows]
        async with self.cursor.connection.transaction():
            version = await _fetch(self.cursor, VERSION_SQL)
            rows = await _fetch(self.cursor, sql, params)
        await self._read(version[0][0] if version else None)
        return rows

    async def dataset(self) -> DatasetInfo:
        if self._info is None:
            version = await _fetch(self.cursor, VERSION_SQL)
            await self._read(version[0][0] if version else None)
        return self.info

    async def _read(self, version: str | None) -> None:
        if self._info is None:
            self._info = await self.owner.info_of(self.cursor, version)
        elif version != self._info.version:
            raise DatasetChanged


class PostgresDatabase:
    def __init__(
        self,
        url: str,
        timeout: float,
        pool_size: int,
        expected_revision: str | None = None,
        search_index: SearchIndex | None = None,
    ) -> None:
        from psycopg_pool import AsyncConnectionPool
        from sqlalchemy.engine import make_url

        sa_url = make_url(url)
        given_options = sa_url.query.get("options", "")  # such as a search_path of the operator's choosing
        self.conninfo = (
            sa_url.set(drivername="postgresql")
            .difference_update_query(["options"])
            .render_as_string(hide_password=False)
        )
        self.display = sa_url.render_as_string(hide_password=True)
        self.dialect = Dialect("postgresql")
        self.expected_revision = expected_revision
        self.search_index = search_index
        self._info: DatasetInfo | None = None
        # Each connection's cursor (`_cursor`).
        self._cursors: dict[Any, Any] = {}
        # Read-only by default and bounded in time, for every connection the pool hands out.
        options = (
            f"{given_options} -c default_transaction_read_only=on -c statement_timeout={int(timeout * 1000)}"
        )
        # A pool of a fixed size, opened in the background at start: a pool that grew under load made the
        # first burst of requests wait for new connections (p99 7.7–12.4 ms in a cold list's first 8 s
        # against 5.2–5.6 in the next 8, and 43 ms once; BENCH.md, nineteenth round).
        self.pool = AsyncConnectionPool(
            self.conninfo,
            min_size=pool_size,
            max_size=pool_size,
            kwargs={"options": options, "autocommit": True, "application_name": "newsfacts"},
            configure=self._configure,
            open=False,
            timeout=timeout,
        )

    @staticmethod
    async def _configure(connection: Any) -> None:
        # Every request's transaction starts with one statement: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY.
        from psycopg import IsolationLevel

        await connection.set_isolation_level(IsolationLevel.REPEATABLE_READ)
        await connection.set_read_only(True)

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    async def _read_info(self, cursor: Any) -> DatasetInfo:
        """The dataset being served: its version is read every time (it changes with each load), the
        rest (counts, facets) only when the version has changed."""
        import psycopg

        try:
            await cursor.execute(VERSION_SQL, prepare=True)
            row = await cursor.fetchone()
        except psycopg.errors.UndefinedTable as exc:
            raise self._no_tables() from exc
        return await self.info_of(cursor, row[0] if row else None)

    async def info_of(self, cursor: Any, version: str | None) -> DatasetInfo:
        """The dataset whose version a statement has read: the last one known, or read (once per load)."""
        import psycopg

        if self._info is not None and version == self._info.version:
            return self._info
        try:
            await cursor.execute("SELECT key, value FROM dataset")
            info = DatasetInfo.from_rows(await cursor.fetchall())
        except psycopg.errors.UndefinedTable as exc:
            raise self._no_tables() from exc
        _check_revision(info, self.expected_revision)
        if info.version != version:  # read in a snapshot of its own, after a load
            raise DatasetChanged
        self._info = info
        return info

    def _no_tables(self) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"{self.display} holds no newsfacts tables; build them with `python -m app load`"
        )

    @contextlib.asynccontextmanager
    async def _cursor(self) -> AsyncIterator[Any]:
        """A connection of the pool, for one request, as its cursor: made once per connection, and let
        go of once the pool has closed the connection. Taken with `getconn` and given back with
        `putconn`, which rolls back what a failed request left open; the pool's `connection()` would
        also commit on the way out, which on these autocommit connections has nothing to do (BENCH.md,
        forty-second round: the two took ~50 µs of the server's time a request)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            connection = await self.pool.getconn()
            try:
                cursor = self._cursors.get(connection)
                if cursor is None:  # a new connection: the pool's first ones, or one replacing a broken one
                    for closed in [known for known in self._cursors if known.closed]:
                        del self._cursors[closed]
                    cursor = self._cursors[connection] = connection.cursor(binary=True)
                yield cursor
            finally:
                await self.pool.putconn(connection)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise DatabaseUnavailable(f"cannot reach PostgreSQL at {self.display}: {exc}") from exc

    async def current(self) -> DatasetInfo:
        async with self._cursor() as cursor:
            return await self._read_info(cursor)

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        # One repeatable-read transaction: a load committing mid-request is not seen half-way.
        async with self._cursor() as cursor, cursor.connection.transaction():
            info = await self._read_info(cursor)
            yield _PostgresSnapshot(cursor, info, self.dialect, self.search_index)

    @contextlib.asynccontextmanager
    async def statements(self) -> AsyncIterator[Snapshot]:
        async with self._cursor() as cursor:
            yield _StampedSnapshot(cursor, self, self.dialect, self.search_index)


def create_database(settings: Settings, expected_revision: str | None = None) -> Database:
    budget = settings.search_index_mb * 1024 * 1024
    if settings.backend == "sqlite":
        index = SearchIndex(budget) if budget else None
        return SqliteDatabase(
            settings.sqlite_path,
            settings.request_timeout,
            expected_revision,
            index,
            settings.snippet_cache_mb,
        )
    return PostgresDatabase(
        settings.database_url,
        settings.request_timeout,
        settings.db_pool_size,
        expected_revision,
        PostgresSearchIndex(budget) if budget else None,
    )
