"""Responses finished in one turn of the event loop leave together at its end (`app.transport`)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from app import transport as transport_module
from app.database import create_database
from app.settings import Settings
from app.transport import BatchedTransport, TurnBatch
from tests.live_server import live_server


class Recording:
    """A transport that notes what reaches the socket, and when, in `log`."""

    def __init__(self, name: str, log: list[tuple[str, Any]]) -> None:
        self.name, self.log, self.closing = name, log, False

    def writelines(self, chunks: list[bytes]) -> None:
        self.log.append((self.name, b"".join(chunks)))

    def close(self) -> None:
        self.log.append((self.name, "closed"))
        self.closing = True

    def abort(self) -> None:
        self.log.append((self.name, "aborted"))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 8000) if name == "sockname" else None


def _connections(
    count: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[list[tuple[str, Any]], list[BatchedTransport]]:
    log: list[tuple[str, Any]] = []
    batch = TurnBatch(clock)
    return log, [BatchedTransport(Recording(f"c{n}", log), batch) for n in range(count)]  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_turns_responses_leave_together_at_its_end_head_and_body_in_one_write() -> None:
    log, (first, second) = _connections(2)
    first.write(b"HTTP/1.1 200 OK\r\n\r\n")
    first.write(b'{"id": 1}')
    second.write(b"HTTP/1.1 404 Not Found\r\n\r\n")
    second.write(b'{"status": 404}')
    assert log == [], "nothing is sent before the turn ends"
    await asyncio.sleep(0)
    assert log == [
        ("c0", b'HTTP/1.1 200 OK\r\n\r\n{"id": 1}'),
        ("c1", b'HTTP/1.1 404 Not Found\r\n\r\n{"status": 404}'),
    ]


@pytest.mark.anyio
async def test_pipelined_responses_on_one_connection_keep_their_order() -> None:
    log, (connection,) = _connections(1)
    for n in range(3):
        connection.write(b"head %d;" % n)
        connection.write(b"body %d;" % n)
    await asyncio.sleep(0)
    assert log == [("c0", b"head 0;body 0;head 1;body 1;head 2;body 2;")]


@pytest.mark.anyio
async def test_a_response_waits_for_others_no_longer_than_max_wait() -> None:
    now = [100.0]
    log, (early, late, later) = _connections(3, clock=lambda: now[0])
    early.write(b"early")
    now[0] += transport_module.MAX_WAIT / 2
    late.write(b"late")
    assert log == [], "half the wait: the batch keeps waiting for the turn's end"
    now[0] += transport_module.MAX_WAIT
    later.write(b"later")
    assert log == [("c0", b"early"), ("c1", b"late")], "the batch was too old: it went when the next came"
    await asyncio.sleep(0)
    assert log[2:] == [("c2", b"later")]


@pytest.mark.anyio
async def test_a_long_sqlite_query_sends_what_waits_from_its_progress_handler(
    sqlite_settings: Settings,
) -> None:
    now = [100.0]
    log, (waiting,) = _connections(1, clock=lambda: now[0])
    waiting.write(b"finished before the query")
    now[0] += transport_module.MAX_WAIT * 2
    database = create_database(sqlite_settings)
    await database.open()
    try:
        async with database.snapshot() as snapshot:
            rows = await snapshot.all(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) "
                "SELECT count(*) FROM n"
            )
    finally:
        await database.close()
    assert rows == [(100000,)]
    assert log == [("c0", b"finished before the query")], "sent while the query ran, not after its turn"


@pytest.mark.anyio
async def test_a_large_body_goes_at_once_with_its_head() -> None:
    log, (connection,) = _connections(1)
    body = b"x" * transport_module.LARGE
    connection.write(b"head;")
    connection.write(body)
    assert log == [("c0", b"head;" + body)]
    await asyncio.sleep(0)
    assert len(log) == 1, "nothing is sent twice"


@pytest.mark.anyio
async def test_closing_sends_what_the_connection_holds_first_and_aborting_drops_it() -> None:
    log, (closed, aborted) = _connections(2)
    closed.write(b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n\r\n")
    closed.close()
    aborted.write(b"never sent")
    aborted.abort()
    await asyncio.sleep(0)
    assert log == [
        ("c0", b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n\r\n"),
        ("c0", "closed"),
        ("c1", "aborted"),
    ]


@pytest.mark.anyio
async def test_a_connection_lost_before_the_turn_ends_is_sent_nothing() -> None:
    log, (connection,) = _connections(1)
    connection.write(b"for a client that left")
    connection.transport.closing = True  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert log == []


def _responses(sock: socket.socket, count: int) -> list[tuple[bytes, bytes]]:
    """Read `count` HTTP responses (status line, body) off a keep-alive connection, by Content-Length."""
    buffer, responses = b"", list[tuple[bytes, bytes]]()
    while len(responses) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {len(responses)} responses"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(
            int(v) for k, _, v in (line.partition(b": ") for line in lines) if k == b"content-length"
        )
        while len(buffer) < length:
            buffer += sock.recv(65536)
        responses.append((lines[0], buffer[:length]))
        buffer = buffer[length:]
    return responses


def test_the_server_answers_pipelined_requests_in_order_each_whole(sqlite_settings: Settings) -> None:
    with live_server(sqlite_settings) as base:
        port = int(base.rsplit(":", 1)[1])
        requests = [
            b"GET /quotes?speaker=pavel-kulazhanka HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /people/no-such-person HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /people/pavel-kulazhanka HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"".join(requests))  # all three before any answer
            (quotes_status, quotes), (missing_status, missing), (person_status, person) = _responses(sock, 3)
    assert quotes_status == person_status == b"HTTP/1.1 200 OK"
    assert [q["text"] for q in orjson.loads(quotes)["items"]] == [
        "Without an independent Ukraine, there will be no independent Belarus",
        "Ukraine is my first stop. The second stop will be Belarus.",
    ]
    assert missing_status == b"HTTP/1.1 404 Not Found"
    assert "no-such-person" in orjson.loads(missing)["detail"]
    assert orjson.loads(person)["name"] == "Pavel Kulazhanka"
