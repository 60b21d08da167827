"""`python -m bench [--quick]`: measure the API against the ceiling and Datasette, in one run.

1. Generate the synthetic corpora (`bench.corpus`) and load them with the real loader, timing the load.
2. Start the real server (`python -m app serve`, production settings, one worker) on one core and drive
   it with wrk (one thread, 16 connections) from the other, scenario by scenario; the two runs of each
   ratio are made one right after the other (the ceiling's before the API's, the small corpus's after
   the large one's), so that the machine's drift over a run does not enter the ratio.
3. In the same run, serve each scenario's precomputed response bytes from a bare Starlette app (the
   ceiling, served as the API is: uvloop and the API's HTTP protocol, `app.transport`; once more with
   stock uvicorn's, for reference) and the equivalent query from Datasette on the same SQLite file.
4. Print a table and one line per figure (`ratio <name> <value>`, `p99_ms <name> <value>`, …); a full run
   also writes bench/results/latest.json (not committed: BENCH.md keeps the runs we report, with their
   machine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app import COMPILED
from app.settings import PROJECT_DIR
from app.transport import PROTOCOL
from bench import WORK
from bench.corpus import generate
from bench.scenarios import sample

BENCH_DIR = Path(__file__).parent
LUA = BENCH_DIR / "wrk" / "paths.lua"
# Articles per corpus size: a synthetic article holds about 122 facts.
SIZES = {"10k": 82, "1m": 8300}
# The load is timed this many times, as the command line runs it (into the existing file), and the median
# reported: on this shared machine one load of the same code took 16.6-26.6 s.
LOADS = 3
QUICK_SIZES = {"10k": 82}
# The API's scenarios on the large corpus, and those whose growth from the small one is a target.
SCENARIOS = ["cold", "detail", "search", "search_common", "csv", "deep"]
GROWTH = ["cold", "detail", "search", "deep"]


@dataclass
class Run:
    name: str
    target: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Results:
    machine: dict[str, Any]
    quick: bool
    loader: dict[str, Any] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def run(self, name: str) -> Run:
        return next(r for r in self.runs if r.name == name)


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d"),
        "compiled": ", ".join(COMPILED) or "none",  # the request path's modules mypyc compiled (setup.py)
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(core: int, command: list[str]) -> list[str]:
    """Server on one core, load generator on the other: they do not fight for the same CPU."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *command]
    return command


@contextmanager
def _process(
    command: list[str], env: dict[str, str], port: int, probe: str, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start a server; yields it with the seconds it took to answer `probe`."""
    started = time.perf_counter()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            _pinned(1, command), env=os.environ | env, stdout=output, stderr=output, cwd=PROJECT_DIR
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{command[0:4]} did not answer {probe} with 200; see {log}")
                time.sleep(0.02)
            yield process, time.perf_counter() - started
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _api(database: Path | str, port: int, cache: bool, log: Path) -> Any:
    """The real server, production settings, one worker: on an SQLite file or a PostgreSQL URL."""
    env = {
        "DATABASE_URL": database if isinstance(database, str) else f"sqlite:///{database}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WORKERS": "1",
        "CACHE_MB": "64" if cache else "0",
        "LOG_LEVEL": "info",
    }
    return _process([sys.executable, "-m", "app", "serve", "--no-load"], env, port, "/health", log)


def _uvicorn(app: str, port: int, env: dict[str, str], log: Path, http: str = PROTOCOL) -> Any:
    """`app` served as the API is: uvloop and, unless `http` says otherwise, the API's HTTP protocol."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        http,
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return _process(command, env, port, "/ping" if "ceiling" in app else "/", log)


def _wrk(base: str, paths: list[str], name: str, target: str, seconds: int) -> Run:
    listing = WORK / f"paths-{name}.txt"
    listing.write_text("\n".join(paths) + "\n")
    # wrk gives up on a response after 2 s by default, and leaves it out of the latencies: the slowest
    # scenario (the most common words, p99 ~0.7-1.2 s) is measured whole with 10 s.
    wrk = ["wrk", "-t1", "-c16", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(LUA)]
    command = _pinned(0, [*wrk, base, "--", str(listing)])
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percentiles = {
        m.group(1): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", output, re.M)
    }
    errors = 0
    for pattern in (
        r"Non-2xx or 3xx responses: (\d+)",
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
    ):
        found = re.search(pattern, output)
        if found:
            errors += sum(int(g) for g in found.groups())
    return Run(name, target, rps, percentiles.get("50", 0.0), percentiles.get("99", 0.0), errors)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Peak resident memory of the server (its own process: one worker runs in-process)."""
    pid = process.pid
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for candidate in [*children, str(pid)]:
        status = Path(f"/proc/{candidate}/status")
        if status.exists() and "python" in Path(f"/proc/{candidate}/cmdline").read_text():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return 0.0


def _corpus(size: str, articles: int, results: Results, timed: bool) -> Path:
    seeds = generate(WORK / f"seeds-{size}", articles)
    database = WORK / f"{size}.db"
    # Loaded by the code being measured every run, even when untimed (the small corpus: ~1 s), so that no
    # scenario reads a file an earlier version of the loader wrote (its layout, its page size).
    seconds: list[float] = []
    for _ in range(LOADS if timed else 1):
        started = time.perf_counter()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "app",
                "load",
                "--quiet",
                "--seeds",
                str(seeds),
                "--database-url",
                f"sqlite:///{database}",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=PROJECT_DIR,
        )
        seconds.append(time.perf_counter() - started)
    facts = int(re.search(r"([\d,]+) facts", completed.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    if timed:
        median = statistics.median(seconds)
        results.loader = {
            "corpus": size,
            "facts": facts,
            "seconds": round(median, 2),
            "facts_per_s": round(facts / median),
            "runs_s": [round(second, 2) for second in seconds],
        }
    return database


def _ceiling_routes(base: str, paths: dict[str, list[str]]) -> Path:
    """Fetch one response per scenario from the real API; the ceiling serves exactly those bytes."""
    routes = {}
    for name in ("hot", "cold", "detail"):
        response = httpx.get(base + paths[name][len(paths[name]) // 2])
        response.raise_for_status()
        file = WORK / f"ceiling-{name}.bin"
        file.write_bytes(response.content)
        routes[f"/{name}"] = [response.headers["content-type"], str(file)]
    routes["/ping"] = ["text/plain", str(WORK / "ceiling-ping.bin")]
    (WORK / "ceiling-ping.bin").write_bytes(b"ok")
    listing = WORK / "ceiling-routes.json"
    listing.write_text(json.dumps(routes))
    return listing


@contextmanager
def _serving(results: Results, size: str, database: Path | str) -> Iterator[str]:
    """The API without its response cache on `database`; yields its base URL. Its seconds to answer
    `/health` after start and its peak resident memory go into the figures."""
    port = _free_port()
    with _api(database, port, cache=False, log=WORK / f"api-{size}-nocache.log") as (process, startup):
        results.figures[f"startup_s_{size}"] = round(startup, 3)
        yield f"http://127.0.0.1:{port}"
        results.figures[f"rss_mb_{size}"] = round(_rss_mb(process), 1)


def _scenario(
    results: Results, base: str, paths: dict[str, list[str]], name: str, size: str, seconds: int
) -> None:
    label = "api pg (no cache)" if size.endswith("_pg") else "api (no cache)"
    httpx.get(base + paths[name][0])  # warm the connection's statement cache
    results.runs.append(_wrk(base, paths[name], f"{name}_{size}", label, seconds))


def _postgres(results: Results, url: str, seeds: Path, paths: dict[str, list[str]], seconds: int) -> None:
    """The same corpus and scenarios on PostgreSQL (the ceiling and Datasette are SQLite-only)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "app", "load", "--quiet", "--seeds", str(seeds), "--database-url", url]
    completed = subprocess.run(command, capture_output=True, text=True, check=True, cwd=PROJECT_DIR)
    facts = int(re.search(r"([\d,]+) facts", completed.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    results.figures["pg_loader_facts_per_s"] = round(facts / (time.perf_counter() - started))
    with _serving(results, "1m_pg", url) as base:
        for name in GROWTH:
            _scenario(results, base, paths, name, "1m_pg", seconds)


def _datasette(results: Results, database: Path, paths: list[str], seconds: int) -> None:
    executable = Path(sys.executable).parent / "datasette"
    if not executable.exists():
        return
    port = _free_port()
    command = [str(executable), "serve", "--immutable", str(database), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--setting", "default_page_size", "50"]
    with _process(command, {}, port, "/-/versions.json", WORK / "datasette.log"):
        results.runs.append(_wrk(f"http://127.0.0.1:{port}", paths, "datasette", "datasette", seconds))


@contextmanager
def _ceiling(routes: Path, http: str = PROTOCOL) -> Iterator[tuple[str, str]]:
    """The ceiling's routes, served with the HTTP protocol `http`; yields its base URL and its label."""
    port = _free_port()
    env = {"CEILING_ROUTES": str(routes)}
    with _uvicorn("bench.ceiling:create_app", port, env, WORK / "ceiling.log", http):
        yield f"http://127.0.0.1:{port}", "ceiling" if http == PROTOCOL else f"ceiling ({http})"


def _ceiling_run(results: Results, ceiling: tuple[str, str], route: str, name: str, seconds: int) -> None:
    results.runs.append(_wrk(ceiling[0], [f"/{route}"], name, ceiling[1], seconds))


def run(quick: bool, postgres: str | None = None) -> Results:
    if not shutil.which("wrk"):
        raise SystemExit("the benchmark needs wrk: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    results = Results(_machine(), quick)
    seconds = 1 if quick else 8
    sizes = QUICK_SIZES if quick else SIZES
    large = "10k" if quick else "1m"
    databases = {
        size: _corpus(size, articles, results, timed=size == large) for size, articles in sizes.items()
    }
    paths = {size: sample(db) for size, db in databases.items()}
    big = paths[large]

    port = _free_port()
    with _api(databases[large], port, cache=True, log=WORK / "api-cached.log"):
        base = f"http://127.0.0.1:{port}"
        routes = _ceiling_routes(base, big)
        httpx.get(base + big["hot"][0])
        results.runs.append(_wrk(base, big["hot"], "hot", "api", seconds))

    # Each ratio is taken between two runs made one right after the other, every server up at once (an
    # idle one costs the others only uvicorn's tick, ten times a second): the ceiling's run right before
    # the API's scenario it is the ceiling of, the small corpus's scenario right after the large one's. This machine's speed drifts
    # within minutes (BENCH.md); runs a minute apart gave ratios that said as much about that drift.
    small = None if quick else "10k"
    with contextlib.ExitStack() as servers:
        ceiling = servers.enter_context(_ceiling(routes))
        _ceiling_run(results, ceiling, "hot", "ceiling_hot", seconds)
        large_base = servers.enter_context(_serving(results, large, databases[large]))
        small_base = servers.enter_context(_serving(results, small, databases[small])) if small else ""
        for name in ["cold", "detail", "search"] if quick else SCENARIOS:
            if name in ("cold", "detail"):
                _ceiling_run(results, ceiling, name, f"ceiling_{name}", seconds)
            _scenario(results, large_base, big, name, large, seconds)
            if small and name in GROWTH:
                _scenario(results, small_base, paths[small], name, small, seconds)
    # For reference, the ceiling as stock uvicorn serves it (every response written the moment it is sent).
    with _ceiling(routes, http="httptools") as stock:
        _ceiling_run(results, stock, "detail", "ceiling_stock", seconds)

    if postgres and not quick:
        _postgres(results, postgres, WORK / "seeds-1m", big, seconds)
    _datasette(results, databases[large], big["datasette"], seconds)
    # The ceiling once more at the end: how much the machine itself drifted while the run went on.
    with _ceiling(routes) as ceiling:
        _ceiling_run(results, ceiling, "detail", "ceiling_again", seconds)
    _figures(results, large, quick)
    return results


def _figures(results: Results, large: str, quick: bool) -> None:
    f = results.figures
    r = results.run
    f["ratio_hot_vs_ceiling"] = round(r("hot").requests_per_s / r("ceiling_hot").requests_per_s, 3)
    f["ratio_cold_vs_ceiling"] = round(
        r(f"cold_{large}").requests_per_s / r("ceiling_cold").requests_per_s, 3
    )
    f["ratio_detail_vs_ceiling"] = round(
        r(f"detail_{large}").requests_per_s / r("ceiling_detail").requests_per_s, 3
    )
    # Above 1, the machine was faster at the end of the run than at its start; ratios taken across a drift
    # of more than ~10 % say as much about the machine as about the API.
    f["ratio_ceiling_drift"] = round(
        r("ceiling_again").requests_per_s / r("ceiling_detail").requests_per_s, 3
    )
    # What writing each turn's responses together (`app.transport`) gives the ceiling itself.
    f["ratio_ceiling_vs_stock_uvicorn"] = round(
        r("ceiling_detail").requests_per_s / r("ceiling_stock").requests_per_s, 3
    )
    if any(run.name == "datasette" for run in results.runs):
        f["ratio_vs_datasette"] = round(r(f"cold_{large}").requests_per_s / r("datasette").requests_per_s, 2)
    if not quick:
        for name in GROWTH:
            f[f"ratio_growth_{name}"] = round(r(f"{name}_1m").p50_ms / max(r(f"{name}_10k").p50_ms, 0.001), 2)


def report(results: Results) -> str:
    lines = [f"{'run':<16} {'served by':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    for run_ in results.runs:
        lines.append(
            f"{run_.name:<16} {run_.target:<20} {run_.requests_per_s:>9.0f} {run_.p50_ms:>8.2f} {run_.p99_ms:>8.2f} {run_.errors:>7}"
        )
    lines.append("")
    lines.append(f"compiled {results.machine['compiled']}")
    if results.loader:
        runs = ", ".join(map(str, results.loader["runs_s"]))
        lines.append(
            f"loader {results.loader['facts']:,} facts in {results.loader['seconds']} s (median of {runs} s)"
        )
    for name, value in results.figures.items():
        if name.startswith("ratio_"):
            lines.append(f"ratio {name.removeprefix('ratio_')} {value}")
    for run_ in results.runs:
        lines.append(f"p99_ms {run_.name} {run_.p99_ms:.2f}")
    if results.loader:
        lines.append(f"facts_per_s loader {results.loader['facts_per_s']}")
    for name, value in results.figures.items():
        if name.startswith("startup_s_"):
            lines.append(f"seconds health_after_start_{name.removeprefix('startup_s_')} {value}")
        if name.startswith("rss_mb_"):
            lines.append(f"mb rss_{name.removeprefix('rss_mb_')} {value}")
        if name == "pg_loader_facts_per_s":
            lines.append(f"facts_per_s loader_postgresql {value}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small corpus, 1 s per run (under a minute)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("NEWSFACTS_BENCH_POSTGRES_URL"),
        help="also load the large corpus into this PostgreSQL database (overwritten!) and measure the API on it",
    )
    args = parser.parse_args()
    results = run(args.quick, args.postgres)
    text = report(results)
    print(text)
    errors = sum(run_.errors for run_ in results.runs)
    if not args.quick:
        out = BENCH_DIR / "results"
        out.mkdir(exist_ok=True)
        (out / "latest.json").write_text(json.dumps(asdict(results), indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
