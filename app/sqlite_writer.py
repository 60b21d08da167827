"""The process that writes a new SQLite database while the loader builds its rows.

Python runs one thread at a time, and SQLite's inserts hold it for every row they bind: in one process
the loader would either build rows or write them. So the loader hands each table's rows, in chunks, to
this process, which owns the only connection to the new file. It creates the schema, inserts the rows,
feeds the full-text indexes with the rows of their tables as they come, builds a table's indexes in one
sorted pass once the table is complete, and at the end commits and gathers statistics — while the
loader, on the other core, builds the next table's rows. The loader keeps everything else: the lock,
the checks, the fsync and the rename.

Messages are pickled tuples over a socket pair. From the loader: ("rows", table, columns, rows),
("indexes", table), ("finish",), then ("words", rows) when asked. Back: ("progress", done, total) and
("words", from) while finishing, asking the loader for `search_word`'s rows from that word on, which it
reads from the committed file while this process reads the others; then ("done",); or ("error", errno,
message) once, when a write fails, which the loader raises as the error it would have met itself. This
process ends with the loader: at its next read, or at once on Linux.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import operator
import os
import pickle
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

from app.settings import PROJECT_DIR

Message = tuple[Any, ...]
PAGE_SIZE = 16_384
CACHE_KIB = 256 * 1024  # the page cache while rows are inserted
SORT_KIB = 16 * 1024
"""The page cache while a table's indexes are built. SQLite's sort holds as much as the page cache before
it writes a sorted run to a temporary file: the quote table's indexes (~320 MB on the 1M corpus) sorted in
runs of up to 256 MiB took 1.6 s on their own, in runs of 16 MiB merged at the end 1.1–1.3 s (the
runs sorted on a second thread, `PRAGMA threads`). Shrinking the cache also has SQLite write the pages
it holds there and then, rather than all of them at the commit (BENCH.md, forty-fifth round)."""
FTS_HASH_BYTES = 256 * 1024 * 1024  # what FTS5 gathers in memory before writing a segment (see `_open`)
FTS_DEFAULT_HASH_BYTES, FTS_DEFAULT_AUTOMERGE = 1024 * 1024, 4


class WriterStopped(Exception):
    """The writing process ended without saying why (killed, out of memory)."""


def _encode(message: Message) -> memoryview:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: rows hold no shared or recursive objects, and the memo costs half the time
    pickler.dump(message)
    return buffer.getbuffer()


class Writer:
    """The loader's end: starts the process, sends it work, and waits for it to finish."""

    def __init__(self, path: Path) -> None:
        self.path = path
        ours, theirs = Pipe()
        command = [
            sys.executable,
            "-m",
            "app.sqlite_writer",
            str(theirs.fileno()),
            str(os.getpid()),
            str(path.absolute()),  # it runs in the project folder, not necessarily ours
        ]
        # SQLite's sorts write their runs (`SORT_KIB`) to temporary files, deleted as soon as opened: next to
        # the file being built, where the loader can write and has room for it, rather than in /var/tmp.
        environment = os.environ | {"SQLITE_TMPDIR": str(path.parent.absolute())}
        self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()], cwd=PROJECT_DIR, env=environment)
        theirs.close()
        self.channel = ours
        # Sending waits whenever the process is busy; a thread of ours does the waiting, so that this one
        # goes on building rows. The queue holds what is not sent yet.
        self.outbox: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self.failed: OSError | None = None
        self.done = False
        self.sender = threading.Thread(target=self._send_all, name="newsfacts-writer-feed", daemon=True)
        self.sender.start()
        # That thread needs the GIL back after each part of a message the socket takes (~200 kB); by
        # default it would wait up to 5 ms each time for this one to let go of it.
        self.switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0001)

    def _send_all(self) -> None:
        while (message := self.outbox.get()) is not None:
            try:
                self.channel.send_bytes(message)
            except OSError as exc:  # it has stopped; the reason, if it could give one, is in the channel
                self.failed = exc
                return

    def send(self, *message: Any) -> None:
        if self.failed is not None:
            self.receive()  # raises the process's own error, or says it stopped
            raise self.failed
        self.outbox.put(_encode(message))

    def finish(self) -> None:
        """Everything is sent: the process builds the last indexes and commits. Meanwhile a thread of ours
        has the kernel write to disk what the process has written so far (most of the file), rather than
        all of it in the loader's fsync at the end: a 1M load writes ~1.1 GB, less than the kernel keeps
        in memory before writing it of its own accord, and that fsync took ~0.6 s (~0.25 now). Started any
        earlier, while the tables are written, it made the process's writes dearer."""
        self.send("finish")
        threading.Thread(
            target=_write_back, args=(self.path,), name="newsfacts-writeback", daemon=True
        ).start()

    def receive(self) -> Message:
        try:
            message: Message = pickle.loads(self.channel.recv_bytes())
        except (EOFError, OSError):
            status = self.process.wait()
            how = f"was killed (signal {-status})" if status < 0 else f"stopped (exit status {status})"
            raise WriterStopped(f"the process writing the database {how}") from None
        if message[0] == "error":
            _, code, text = message
            raise OSError(code, text) if code else sqlite3.OperationalError(text)
        self.done = message[0] == "done"
        return message

    def close(self) -> None:
        """Wait for the process to end; stop it first if the load failed on our side."""
        sys.setswitchinterval(self.switch_interval)
        self.outbox.put(None)
        if not self.done:
            self.process.kill()  # which also ends a send the thread is waiting on
        self.sender.join()
        self.channel.close()
        self.process.wait()


def _write_back(path: Path) -> None:
    with contextlib.suppress(OSError):  # the loader's own fsync, after this one, reports what fails
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# -- the writing process ---------------------------------------------------------------------------


def _die_with(parent: int) -> None:
    # PR_SET_PDEATHSIG: a loader that is killed takes this process with it, rather than leaving it to
    # write a file nobody will rename. Elsewhere than Linux it ends at its next read.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:
        sys.exit(0)  # it died before we could ask


def _open(path: str) -> tuple[sqlite3.Connection, dict[str, list[str]]]:
    from alembic import command
    from sqlalchemy import create_engine, pool

    from app.dialects import SQLITE_FULL_TEXT
    from app.loader import alembic_config

    connection = sqlite3.connect(path, isolation_level=None)
    # 16 KiB pages, not 4: the quote lists' covering indexes (migration 0004) hold ~1 kB entries, which in
    # 4 KiB pages would each spill to an overflow page; a 500-line CSV page reads ~30 pages, not ~115.
    # Larger pages cost every lookup by id more (each read copies a whole page): 32 KiB ones gave CSV
    # pages ~3 % more and details ~3 % less (BENCH-HISTORY.md, eleventh round). Set before anything is written.
    connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    # The file is private until renamed into place, so durability per statement buys nothing.
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    connection.execute("PRAGMA threads = 2")  # the sorts that build the indexes may use a second core
    engine = create_engine("sqlite://", creator=lambda: connection, poolclass=pool.StaticPool)
    with engine.connect() as sa_connection:
        command.upgrade(alembic_config(sa_connection), "head")
        sa_connection.commit()
    # Rows go into bare tables and each index is then built in one sorted pass, rather than updated row by
    # row: the indexes come out the same (their SQL is replayed as the migrations wrote it), in less time.
    indexes: dict[str, list[str]] = {}
    for name, table, sql in connection.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall():
        connection.execute(f'DROP INDEX "{name}"')
        indexes.setdefault(table, []).append(sql)
    connection.execute("BEGIN")
    for index, _ in SQLITE_FULL_TEXT.values():
        # FTS5 writes what it has gathered as a new segment of its index once it holds `hashsize` bytes
        # (1 MB by default), and merges segments as they pile up (`automerge`). Gathering more and merging
        # once, at the end (`_finish`), costs the writer no more (BENCH-HISTORY.md, fourteenth round) and leaves
        # one segment: a search then sets its query up in one place instead of ~10.
        _fts_option(connection, index, "hashsize", FTS_HASH_BYTES)
        _fts_option(connection, index, "automerge", 0)
    return connection, indexes


def _fts_option(connection: sqlite3.Connection, index: str, option: str, value: int) -> None:
    connection.execute(f"INSERT INTO {index}({index}, rank) VALUES (?, ?)", (option, value))


def _finish(connection: sqlite3.Connection, channel: Connection, path: str) -> None:
    from app.dialects import SQLITE_FULL_TEXT
    from app.search_index import WORDS_SPLIT, search_words

    for index, _ in SQLITE_FULL_TEXT.values():
        connection.execute(f"INSERT INTO {index}({index}) VALUES ('optimize')")
        _fts_option(connection, index, "hashsize", FTS_DEFAULT_HASH_BYTES)  # FTS5's defaults again, for
        _fts_option(connection, index, "automerge", FTS_DEFAULT_AUTOMERGE)  # whoever writes the file next
    # The words are read from the committed index by both processes at once, half each: the loader's
    # is idle by now. The file is still private, and deleted all the same if anything fails after this.
    connection.execute("COMMIT")
    channel.send_bytes(_encode(("words", WORDS_SPLIT)))
    ours = search_words(path, None, WORDS_SPLIT)
    kind, theirs = pickle.loads(channel.recv_bytes())
    if kind != "words":
        raise ValueError(f"expected the loader's words, not {kind!r}")
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO search_word (word, entries, counts) VALUES (?, ?, ?)", ours + theirs)
    connection.execute("COMMIT")


def _serve(channel: Connection, path: str) -> None:
    from app.dialects import SQLITE_FULL_TEXT

    connection, indexes = _open(path)
    while True:
        kind, *args = pickle.loads(channel.recv_bytes())
        if kind == "rows":
            table, columns, rows = args
            quoted = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            connection.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)
            if table in SQLITE_FULL_TEXT:
                index, indexed = SQLITE_FULL_TEXT[table]
                values = operator.itemgetter(*(columns.index(c) for c in ("id", *indexed)))
                connection.executemany(
                    f"INSERT INTO {index}(rowid, {', '.join(indexed)}) VALUES (?{', ?' * len(indexed)})",
                    map(values, rows),
                )
        elif kind == "indexes":
            connection.execute(f"PRAGMA cache_size = -{SORT_KIB}")
            for statement in indexes.pop(args[0], []):
                connection.execute(statement)
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        elif kind == "finish":
            channel.send_bytes(_encode(("progress", 0, 1)))
            _finish(connection, channel, path)
            # Sampled statistics: as good for the planner, far faster.
            connection.execute("PRAGMA analysis_limit = 1000")
            connection.execute("ANALYZE")
            connection.close()
            channel.send_bytes(_encode(("progress", 1, 1)))
            channel.send_bytes(_encode(("done",)))
            return
        else:
            raise ValueError(f"unknown message {kind!r}")


def main(argv: list[str]) -> int:
    descriptor, parent, path = argv
    _die_with(int(parent))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the loader decides
    gc.disable()  # millions of row tuples, none of them in a cycle; the process ends after one load
    channel = Connection(int(descriptor))
    try:
        _serve(channel, path)
    except EOFError:
        return 0  # the loader has gone; it will not rename the file, and the next load removes it
    except Exception as exc:
        cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's errors
        code = cause.errno if isinstance(cause, OSError) else None
        text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        with contextlib.suppress(OSError):
            channel.send_bytes(_encode(("error", code, text)))
        return 1
    return 0


if __name__ == "__main__":
    # At once: the connection is closed and everything sent; freeing the process's memory object by
    # object, as a normal exit does, kept the loader waiting ~0.2 s.
    os._exit(main(sys.argv[1:]))
