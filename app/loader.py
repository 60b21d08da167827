"""Build the database from `seeds/`: check everything, then replace the old data in one step.

SQLite: the new database is built in a temporary file next to the target — written by a second process
(`app/sqlite_writer.py`) while this one checks the seeds (the articles' texts, read first) and builds the
rows (the rest) — and renamed over it (`os.replace` is atomic),
so a failed or killed load leaves the previous file as it was, and a running server keeps reading the
file it has open until it notices the new one.
PostgreSQL: migrations, deletes and inserts run in one transaction; readers see the previous data until
it commits, and a failed or killed load is rolled back by the server.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from app import documents
from app.dataset import Dataset, Progress, build_dataset
from app.dialects import POSTGRES_SEARCH_TABLES, POSTGRES_SEARCH_WORDS
from app.models import TABLE_ORDER
from app.revision import SCHEMA_REVISION
from app.settings import PROJECT_DIR, Settings
from app.sqlite_writer import Writer, WriterStopped

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, Engine

log = logging.getLogger("newsfacts.loader")

# Rows go to the writing process (and to PostgreSQL's COPY) this many at a time. 4,000 quote rows pickle
# to ~8 MB, a buffer glibc reuses from one message to the next; at 20,000 (~40 MB) each message took fresh
# pages from the kernel on both sides, and pickling a quote cost three times as much (BENCH-HISTORY.md, tenth round).
CHUNK = 4_000


class LoadError(Exception):
    """The database could not be written; the message says why and what to do. Nothing was changed."""


@dataclass(frozen=True)
class LoadSummary:
    target: str
    version: str
    counts: dict[str, int]
    facts: int
    seconds: float


# Alembic is imported where it is used (PostgreSQL loads, the SQLite writing process): it takes half a
# second to import, which every SQLite load would otherwise pay before it starts.
def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _dataset_rows(dataset: Dataset) -> list[documents.Row]:
    meta = {
        "version": dataset.version,
        "counts": json.dumps(dataset.counts, sort_keys=True),
        "facts": str(dataset.fact_count),
        "revision": SCHEMA_REVISION,  # Alembic's head: tests/test_migrations.py
        "stats": json.dumps(documents.stats(dataset.facts), sort_keys=True),
    }
    return [documents.ROW["dataset"](key=key, value=value) for key, value in sorted(meta.items())]


def _table_rows(dataset: Dataset) -> Iterator[tuple[str, tuple[str, ...], list[documents.Row]]]:
    for name in TABLE_ORDER:
        rows = _dataset_rows(dataset) if name == "dataset" else dataset.rows[name]
        yield name, documents.ROW[name]._fields, rows


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """A load allocates millions of objects and frees none of them until it ends, so Python's cycle
    collector would walk them all again and again: it took more than half of a large load. Reference
    counting still frees everything; the collector is back on when the load ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check(settings: Settings) -> Dataset:
    """Everything `load` checks, writing nothing. Raises SeedErrors."""
    with _without_cycle_collection():
        dataset = build_dataset(settings.seeds_dir)
        dataset.build_rows()
        return dataset


# Whether a Ctrl-C came during the command line's load, before or after its point of no return.
_interrupts = {"before": False, "after": False}


def _stop(signum: int, frame: object) -> None:
    _interrupts["before"] = True
    raise KeyboardInterrupt


def _hold_off(signum: int, frame: object) -> None:
    _interrupts["after"] = True


@contextlib.contextmanager
def stopped_by_ctrl_c() -> Iterator[None]:
    """For the command line: Ctrl-C stops a load, with nothing changed, until the new data takes the old
    data's place (`_point_of_no_return`); after that the load finishes (it is a moment from done) and says
    that it did, instead of reporting a stop that did not happen. Python drops a KeyboardInterrupt that
    lands while a finaliser runs; the flag still stops the load before its point of no return."""
    _interrupts.update(before=False, after=False)
    previous = signal.signal(signal.SIGINT, _stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if _interrupts["after"]:
            print("Ctrl-C came after the new data was in place: the load was completed", file=sys.stderr)


def _point_of_no_return() -> None:
    """Called just before the new data replaces the old (the rename, the commit)."""
    if signal.getsignal(signal.SIGINT) is _stop:
        signal.signal(signal.SIGINT, _hold_off)
        if _interrupts["before"]:  # an interrupt that was swallowed on its way
            raise KeyboardInterrupt


def load(settings: Settings, progress: Progress | None = None) -> LoadSummary:
    started = time.perf_counter()
    with _without_cycle_collection():
        if settings.backend == "sqlite":
            target = str(settings.sqlite_path)
            dataset = _write_sqlite(settings.seeds_dir, settings.sqlite_path, progress)
        else:
            target = _redact(settings.database_url)
            dataset = build_dataset(settings.seeds_dir, progress)
            dataset.build_rows(progress)
            _write_postgres(dataset, settings.database_url, progress)
        version, counts, facts = dataset.version, dataset.counts, dataset.fact_count
        dataset.release()  # while the collector is off: once on, its first pass would walk every object
    return LoadSummary(target, version, counts, facts, time.perf_counter() - started)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _insert_all(
    dataset: Dataset,
    insert: Callable[[str, tuple[str, ...], list[documents.Row]], None],
    progress: Progress | None,
) -> None:
    total = sum(len(rows) for _, _, rows in _table_rows(dataset))
    done = 0
    for name, columns, rows in _table_rows(dataset):
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            insert(name, columns, chunk)
            done += len(chunk)
            if progress:
                progress("writing rows", done, total)


# -- SQLite ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _exclusive(directory: Path, name: str) -> Iterator[None]:
    """One load at a time per database file (a second one fails fast instead of racing)."""
    with open(directory / f".{name}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LoadError(f"another load is writing {directory / name}; wait for it to finish") from None
        yield


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _os_problem(exc: BaseException, where: Path) -> LoadError:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    code = getattr(cause, "errno", None)
    text = str(cause).lower()
    if code in (errno.ENOSPC, errno.EFBIG) or "disk is full" in text or "no space" in text:
        reason = f"no space left on the disk holding {where}; free some space or point DATABASE_URL elsewhere"
    elif (
        code in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST, errno.ENOENT)
        or "readonly" in text
        or "unable to open" in text
    ):
        reason = f"cannot write in {where}; make the folder writable or point DATABASE_URL elsewhere"
    elif "disk i/o error" in text:
        reason = (
            f"the disk holding {where} refused a write (disk I/O error: full, over a size limit, or failing)"
        )
    else:
        reason = f"writing in {where} failed: {cause}"
    return LoadError(f"{reason}. The previous database is untouched.")


def _write_sqlite(seeds_dir: Path, target: Path, progress: Progress | None) -> Dataset:
    """Build the dataset from `seeds_dir` and write it to `target`; raises SeedErrors when the seeds are
    wrong, and a LoadError when the database cannot be written."""
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _exclusive(directory, target.name):
            return _replace_sqlite(seeds_dir, target, progress)
    except (OSError, sqlite3.Error, DBAPIError, WriterStopped) as exc:
        raise _os_problem(exc, directory) from exc


def _replace_sqlite(seeds_dir: Path, target: Path, progress: Progress | None) -> Dataset:
    directory = target.parent
    for stale in directory.glob(f".{target.name}.*.building"):
        stale.unlink(missing_ok=True)  # left by a killed load; we hold the lock, so nobody is using it
    building = directory / f".{target.name}.{os.getpid()}.building"
    try:
        # Started first: the writing process starts Python and creates the schema (~0.5 s) while the
        # seeds are read and checked, instead of while the first tables wait for it.
        writer = Writer(building)
        try:
            written: list[documents.Part] = []

            def write_articles(part: documents.Part) -> None:
                # The articles' texts are most of what the full-text index holds: the writing process
                # indexes them while this one checks the facts, instead of waiting for them. Should the
                # check fail, the file they went to is deleted with the rest.
                _send_rows(writer, part.table, part.rows)
                written.append(part)

            dataset = build_dataset(seeds_dir, progress, write_articles)
            _write_tables(writer, dataset, progress, written[0] if written else None)
        finally:
            writer.close()
        _fsync(building)
        _point_of_no_return()
        os.replace(building, target)
        _fsync(directory)
        return dataset
    finally:
        building.unlink(missing_ok=True)


def _write_tables(
    writer: Writer, dataset: Dataset, progress: Progress | None, written: documents.Part | None
) -> None:
    """Each table goes to the writing process as soon as its rows are built; it inserts them, feeds the
    full-text indexes with them, and indexes a table once it is complete, while this process builds the
    next tables; then it commits and gathers statistics while this one frees the dataset (seconds of
    pure Python on a big corpus)."""
    if progress:
        progress("writing tables", 0, documents.TABLES)
    number = 0
    for table, rows, last in dataset.tables(written):
        _send_rows(writer, table, rows)
        del rows  # sent: its memory serves the next tables
        if last:
            writer.send("indexes", table)
            number += 1
            if progress:
                progress("writing tables", number, documents.TABLES)
    _send_rows(writer, "dataset", _dataset_rows(dataset))
    writer.send("indexes", "dataset")
    writer.finish()
    dataset.release()  # while the writing process works through what it was sent
    while (message := writer.receive())[0] != "done":
        if message[0] == "words":
            from app.search_index import search_words  # and numpy: only here, not for every command

            writer.send("words", search_words(str(writer.path), message[1], None))
        elif progress:
            progress("building indexes", message[1], message[2])


def _send_rows(writer: Writer, table: str, rows: list[documents.Row]) -> None:
    columns = documents.ROW[table]._fields
    for start in range(0, len(rows), CHUNK):
        # Plain tuples: a named tuple is pickled with its class, which takes twice as long.
        writer.send("rows", table, columns, list(map(tuple, rows[start : start + CHUNK])))


# -- PostgreSQL -----------------------------------------------------------------------------------

# Any constant will do: it only has to be the same for every loader of this database.
_LOAD_LOCK = 2_022_040_5


def _write_postgres(dataset: Dataset, url: str, progress: Progress | None) -> None:
    from alembic import command
    from alembic.util.exc import CommandError
    from sqlalchemy import create_engine, pool

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOAD_LOCK})")
            started_at = str(connection.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar())
            try:
                command.upgrade(alembic_config(connection), "head")
            except CommandError as exc:  # a revision this code does not know: a newer version migrated it
                raise LoadError(
                    f"the database's schema is of a newer version of newsfacts than this one ({exc}; this "
                    f"version knows revisions up to {SCHEMA_REVISION}). Load it with that version, or "
                    "into another database. Nothing was changed."
                ) from None
            for name in reversed(TABLE_ORDER):
                connection.exec_driver_sql(f'DELETE FROM "{name}"')
            driver = connection.connection.driver_connection
            assert driver is not None

            def insert(name: str, columns: tuple[str, ...], rows: list[documents.Row]) -> None:
                quoted = ", ".join(f'"{c}"' for c in columns)
                with driver.cursor() as cursor, cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)

            _insert_all(dataset, insert, progress)
            for number, statement in enumerate(POSTGRES_SEARCH_WORDS, start=1):
                connection.exec_driver_sql(statement)
                if progress:
                    progress("indexing words", number, len(POSTGRES_SEARCH_WORDS))
            connection.exec_driver_sql("ANALYZE")  # statistics for the new rows from the moment they show
            _point_of_no_return()  # the commit
    except DBAPIError as exc:
        raise LoadError(
            f"loading into PostgreSQL failed: {exc.orig}. The previous data is still served."
        ) from exc
    try:
        _vacuum(engine, progress)
        _checkpoint(engine, started_at, progress)
    finally:
        engine.dispose()


def _vacuum(engine: Engine, progress: Progress | None) -> None:
    """Clear away the previous load's rows, now dead, once the new ones are committed.

    Left to autovacuum, they would be cleared in the minutes after a load, while the API serves (the
    dead rows of every table at once: tails of 20-90 ms in the benchmark); and until then index scans
    step over them. ANALYZE too: the statistics taken inside the load's transaction do not count, for
    autovacuum, the rows that transaction then committed, and it would analyze every table again a
    minute later (p99 over 25 ms while it did). VACUUM cannot run inside the load's transaction, and does
    not block readers. The load is done by now: should this fail, the data is served all the same, and
    autovacuum will catch up.
    """
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            tables = (*TABLE_ORDER, *POSTGRES_SEARCH_TABLES)
            for number, name in enumerate(tables, start=1):
                connection.exec_driver_sql(f'VACUUM (ANALYZE) "{name}"')
                if progress:
                    progress("clearing old rows", number, len(tables))
    except DBAPIError as exc:
        log.warning("the load is done, but clearing the old rows failed (autovacuum will): %s", exc.orig)


# Superusers may, and since PostgreSQL 15 the members of pg_checkpoint.
_MAY_CHECKPOINT = (
    "SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_roles c WHERE c.rolname = 'pg_checkpoint' "
    "AND pg_has_role(current_user, c.oid, 'USAGE')) FROM pg_roles r WHERE r.rolname = current_user"
)
# Less WAL than this (the real article's load writes ~2 MB) is written out unnoticed.
CHECKPOINT_AFTER_WAL_BYTES = 64 * 1024 * 1024


def _checkpoint(engine: Engine, started_at: str, progress: Progress | None) -> None:
    """Write a large load's changes to the data files now, where the role may.

    A large load writes more WAL than `max_wal_size` (1M facts: ~1.6 GB): the checkpoint it sets off
    spreads its writes over the next minutes, then syncs them, while the API serves (a p99 twice as long
    in one benchmark run). An immediate CHECKPOINT gets that over with before the load returns. Where the
    role may not run one, a warning says how to allow it; as after the vacuum, the load is done either
    way. `started_at` is the WAL position before the load.
    """
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            written = connection.exec_driver_sql(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %(start)s::pg_lsn)", {"start": started_at}
            ).scalar()
            if written is None or written < CHECKPOINT_AFTER_WAL_BYTES:
                return
            if not connection.exec_driver_sql(_MAY_CHECKPOINT).scalar():
                log.warning(
                    "PostgreSQL will write this load to its data files over the next minutes; to get that "
                    "over with at once, let the loading role run CHECKPOINT: GRANT pg_checkpoint TO %s "
                    "(PostgreSQL 15 and later; before that, only superusers may)",
                    engine.url.username or "the loading role",
                )
                return
            if progress:
                progress("writing to disk", 0, 1)
            connection.exec_driver_sql("CHECKPOINT")
            if progress:
                progress("writing to disk", 1, 1)
    except DBAPIError as exc:
        log.warning("the load is done, but the checkpoint after it failed: %s", exc.orig)
