"""The real server under sustained mixed load, slow clients and floods, and oversized requests."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.settings import PROJECT_DIR, Settings
from tests.conftest import synthetic_settings_in
from tests.live_server import live_server

pytestmark = pytest.mark.slow
SOAK_SECONDS = 60


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return synthetic_settings_in(tmp_path_factory.mktemp("soak"), 300)


def _server_pid(port: str) -> int:
    output = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(re.search(r"pid=(\d+)", output).group(1))  # type: ignore[union-attr]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _mixed_paths(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        speakers = [r[0] for r in db.execute("SELECT DISTINCT speaker_id FROM quote ORDER BY 1 LIMIT 100")]
        quotes = [r[0] for r in db.execute("SELECT id FROM quote ORDER BY id LIMIT 300")]
        people = [r[0] for r in db.execute("SELECT id FROM person ORDER BY id LIMIT 100")]
    paths = [f"/quotes?speaker={s}" for s in speakers]
    paths += [f"/quotes?speaker={s}&format=csv" for s in speakers[:30]]
    paths += [f"/quotes?speaker={s}&format=ndjson" for s in speakers[:30]]
    paths += [f"/quotes/{q}" for q in quotes] + [f"/people/{p}" for p in people]
    paths += ["/people?sort=-age&limit=100", "/units?format=csv", "/events?year=2016", "/places?name=no"]
    paths += [f"/search?q={w}" for w in ("freedom", "war", "winter", "border", "history")]
    paths += ["/stats", "/health", "/articles?limit=5", "/quotes?limit=500&format=csv"]
    return paths


@pytest.mark.skipif(
    not shutil.which("wrk"), reason="the soak test drives the server with wrk (apt-get install wrk)"
)
def test_a_minute_of_mixed_load_has_no_errors_and_flat_memory(synthetic: Settings, tmp_path: Path) -> None:
    listing = tmp_path / "paths.txt"
    listing.write_text("\n".join(_mixed_paths(synthetic.sqlite_path)) + "\n")
    samples: list[int] = []
    with live_server(synthetic, extra_env={"LOG_LEVEL": "warning"}) as base:
        pid = _server_pid(base.rsplit(":", 1)[1])
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(1.0):
                samples.append(_rss_kb(pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        script = PROJECT_DIR / "bench" / "wrk" / "paths.lua"
        command = [
            "wrk",
            "-t2",
            "-c32",
            f"-d{SOAK_SECONDS}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            base,
            "--",
            str(listing),
        ]
        output = subprocess.run(command, capture_output=True, text=True, timeout=SOAK_SECONDS + 60).stdout
        stop.set()
        sampler.join()
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    assert requests > SOAK_SECONDS * 100, output
    assert "Non-2xx or 3xx responses" not in output, output
    assert "Socket errors" not in output, output
    first, last = samples[:10], samples[-10:]
    growth = (sum(last) / len(last)) / (sum(first) / len(first)) - 1
    print(
        f"soak: {requests} requests in {SOAK_SECONDS} s, resident memory {first[0]} -> {last[-1]} kB ({growth:+.1%})"
    )
    assert growth < 0.10, f"resident memory grew {growth:.1%} (first 10 s {first}, last 10 s {last})"


def _raw_request(port: int, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b"connection: close" not in b"".join(chunks).lower():
                break
        return b"".join(chunks)


def test_a_flood_of_idle_connections_is_bounded_and_recovers(sqlite_settings: Settings) -> None:
    with live_server(sqlite_settings, extra_env={"LIMIT_CONCURRENCY": "8"}) as base:
        port = int(base.rsplit(":", 1)[1])
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        try:
            idle[0].sendall(b"GET /people HTTP/1.1\r\nHost: x\r\n")  # a slow client: headers never finished
            time.sleep(0.2)
            refused = httpx.get(f"{base}/people", timeout=5)
            assert refused.status_code == 503
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.3)
        assert httpx.get(f"{base}/people", timeout=5).status_code == 200


def test_idle_keep_alive_connections_are_closed(sqlite_settings: Settings) -> None:
    with live_server(sqlite_settings, extra_env={"KEEP_ALIVE_TIMEOUT": "1"}) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            response = b""
            while not response.endswith(b"}"):  # the whole answer: /health's body is one JSON object
                chunk = sock.recv(65536)
                assert chunk, f"the server closed the connection mid-answer: {response!r}"
                response += chunk
            assert response.startswith(b"HTTP/1.1 200")
            opened = time.monotonic()
            try:
                assert sock.recv(1) == b"", "nothing more was asked, so nothing more should be sent"
            except TimeoutError:
                pytest.fail("the server kept an idle keep-alive connection open for 10 s (timeout is 1 s)")
            assert time.monotonic() - opened >= 0.5, "closed before the keep-alive timeout"


def test_oversized_requests_get_4xx_and_no_server_header(sqlite_settings: Settings) -> None:
    with live_server(sqlite_settings) as base:
        port = int(base.rsplit(":", 1)[1])
        ok = httpx.get(f"{base}/people")
        assert "server" not in ok.headers
        assert ok.headers["x-content-type-options"] == "nosniff"
        long_target = _raw_request(port, b"GET /people?name=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert long_target.startswith(b"HTTP/1.1 414")
        big_headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(20))
        too_many = _raw_request(port, b"GET /people HTTP/1.1\r\nHost: x\r\n" + big_headers + b"\r\n")
        assert too_many.startswith(b"HTTP/1.1 431")
        huge = b"GET /people HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"z" * 200_000 + b"\r\n\r\n"
        answer = _raw_request(port, huge)
        assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4")), answer[:80]
        assert httpx.get(f"{base}/health").status_code == 200
