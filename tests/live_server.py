"""A real server process on 127.0.0.1, for the tests that need one (browser, load, faults)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.settings import PROJECT_DIR, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    settings: Settings, *, extra_env: dict[str, str] | None = None, log: Path | None = None, wait: bool = True
) -> Iterator[str]:
    """Serve `settings`' database with `python -m app serve`; yields the base URL; stops it after."""
    port = free_port()
    env = (
        os.environ
        | {
            "DATABASE_URL": settings.database_url,
            "SEEDS_DIR": str(settings.seeds_dir),
            "LOG_LEVEL": "warning",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
        | (extra_env or {})
    )
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--no-load"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=output,
        stderr=output,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if wait:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code in (200, 503):
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start (exit code {process.poll()})")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log and hasattr(output, "close"):
            output.close()
