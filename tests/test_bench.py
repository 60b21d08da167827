"""The benchmark harness runs end to end (`python -m bench --quick`); how fast is for BENCH.md, not here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import PROJECT_DIR

pytestmark = pytest.mark.slow


@pytest.mark.skipif(
    not shutil.which("wrk"), reason="the benchmark drives the server with wrk (apt-get install wrk)"
)
def test_quick_benchmark_runs_and_reports_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=PROJECT_DIR,
        env=os.environ | {"BENCH_WORK": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
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
    # The load is timed three times and the median reported, each time shown.
    assert re.search(
        r"^loader [\d,]+ facts in [\d.]+ s \(median of [\d.]+, [\d.]+, [\d.]+ s\)$", result.stdout, re.M
    )
