"""The benchmark harness runs end to end (`python -m bench --quick`, then `python -m bench.inprocess` on the
corpus it built); how fast is for BENCH.md, not here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import PROJECT_DIR

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not shutil.which("wrk"), reason="the benchmark drives the server with wrk (apt-get install wrk)"
    ),
]


def _bench(work: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=PROJECT_DIR,
        env=os.environ | {"BENCH_WORK": str(work)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    work = tmp_path_factory.mktemp("bench")
    return work, _bench(work, "bench", "--quick")


def test_quick_benchmark_runs_and_reports_every_figure(
    quick_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, result = quick_run
    figures = dict(re.findall(r"^ratio (\S+) ([\d.]+)$", result.stdout, re.M))
    assert set(figures) >= {
        "hot_vs_ceiling",
        "cold_vs_ceiling",
        "detail_vs_ceiling",
        "vs_datasette",
        "ceiling_drift",
        "ceiling_vs_stock_uvicorn",
    }
    assert all(float(value) > 0 for value in figures.values())
    latencies = dict(re.findall(r"^p99_ms (\S+) ([\d.]+)$", result.stdout, re.M))
    assert {
        "hot",
        "ceiling_hot",
        "ceiling_stock",
        "cold_10k",
        "detail_10k",
        "search_10k",
        "datasette",
    } <= set(latencies)
    assert re.search(r"^facts_per_s loader \d+$", result.stdout, re.M)
    assert re.search(r"^compiled (none|\w+(, \w+)*)$", result.stdout, re.M)  # what the server ran
    # The load is timed three times and the median reported, each time shown.
    assert re.search(
        r"^loader [\d,]+ facts in [\d.]+ s \(median of [\d.]+, [\d.]+, [\d.]+ s\)$", result.stdout, re.M
    )


def test_in_process_figures_run_on_the_corpus_the_benchmark_built(
    quick_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    work, _ = quick_run
    result = _bench(work, "bench.inprocess", "--size", "10k", "--passes", "1", "cold", "search")
    figures = {name: float(value) for name, value in re.findall(r"^\w+ (\S+) ([\d.]+)$", result.stdout, re.M)}
    assert set(figures) == {
        "cold_10k",
        "search_10k",
        "search_ranking_10k",
        "search_page_10k",
        "search_hits_per_page_10k",
    }
    assert all(value > 0 for value in figures.values())
    # The pieces of a search cost less than the whole request; a page holds at most 50 hits.
    assert figures["search_ranking_10k"] + figures["search_page_10k"] < figures["search_10k"]
    assert figures["search_hits_per_page_10k"] <= 50


def test_in_process_figures_need_the_corpus_first(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--size", "10k"],
        cwd=PROJECT_DIR,
        env=os.environ | {"BENCH_WORK": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "build the corpora with `python -m bench` first" in result.stderr
    assert "Traceback" not in result.stderr
