"""How responses leave the process: the ones finished in one turn of the event loop go out together.

uvicorn's HTTP protocol writes a response the moment it is sent, head and body separately, and each
write to a socket whose reader sleeps wakes that reader up. On a virtual machine a wakeup of a process on
another core is an interrupt between processors, and it costs about as much as answering a record by
id: on this machine, the same server and client, 10,000 against 15,000 records a second. A client or
proxy reading many connections (wrk, nginx, a load balancer) is woken once per write.

`BatchedHttpToolsProtocol` is uvicorn's protocol with one change: its connections hand what they write
to the turn's batch, which writes each connection's bytes in one `writev` (head and body together) at
the end of the turn. A response finished early in a busy turn waits for the turn's later ones, for no
more than `MAX_WAIT` as far as anything can tell: a connection that joins a batch older than that sends
it off first, and so does a long SQLite query, from its progress handler (`send_overdue`). A large body
goes at once (waiting saves nothing when the reader is woken many times over anyway). Under light load a
turn handles one request and nothing waits; pipelined responses keep their order; closing a connection
sends what it holds first. `python -m app serve` serves with it, and so does the benchmark's ceiling.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_WAIT = 0.001  # seconds a finished response may wait for the rest of its turn's batch
LARGE = 64 * 1024  # bytes written at once, with what the connection holds before them
PROTOCOL = "app.transport:BatchedHttpToolsProtocol"  # uvicorn's `http` setting


class TurnBatch:
    """The connections of one event loop with bytes waiting for the end of the current turn."""

    latest: ClassVar[TurnBatch | None] = None  # the batch that last had bytes waiting (`send_overdue`)

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock  # not the loop: `_BATCHES` keys batches by loop, weakly
        self.waiting: list[BatchedTransport] = []
        self.since = 0.0
        self.scheduled = False

    def join(self, transport: BatchedTransport) -> None:
        now = self.clock()
        if self.waiting and now - self.since > MAX_WAIT:
            self.flush()
        if not self.waiting:
            self.since = now
            TurnBatch.latest = self
            if not self.scheduled:
                self.scheduled = True
                asyncio.get_running_loop().call_soon(self._end_of_turn)
        self.waiting.append(transport)

    def _end_of_turn(self) -> None:
        self.scheduled = False
        self.flush()

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, []
        for transport in waiting:
            transport.flush()


def send_overdue() -> None:
    """Send what waits if it has waited over MAX_WAIT. A turn that runs long work without a pause — an
    SQLite query runs on the event loop and calls this from its progress handler — would otherwise hold
    the responses finished before it for as long as it runs."""
    batch = TurnBatch.latest
    if batch is not None and batch.waiting and batch.clock() - batch.since > MAX_WAIT:
        batch.flush()


_BATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnBatch] = weakref.WeakKeyDictionary()


def turn_batch(loop: asyncio.AbstractEventLoop) -> TurnBatch:
    batch = _BATCHES.get(loop)
    if batch is None:
        batch = _BATCHES[loop] = TurnBatch()
    return batch


class BatchedTransport:
    """A connection's transport whose writes wait for the end of the turn; everything else is the
    transport's own."""

    __slots__ = ("batch", "chunks", "transport")

    def __init__(self, transport: asyncio.Transport, batch: TurnBatch) -> None:
        self.transport = transport
        self.batch = batch
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        if len(data) >= LARGE:
            self.chunks.append(data)
            self.flush()
            return
        if not self.chunks:
            self.batch.join(self)
        self.chunks.append(data)

    def flush(self) -> None:
        chunks, self.chunks = self.chunks, []
        if chunks and not self.transport.is_closing():  # a connection lost meanwhile: nobody to send to
            self.transport.writelines(chunks)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self.chunks = []
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, set_protocol…: called once a connection
        return getattr(self.transport, name)


class BatchedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        batched = BatchedTransport(transport, turn_batch(asyncio.get_running_loop()))
        super().connection_made(batched)  # type: ignore[arg-type]
