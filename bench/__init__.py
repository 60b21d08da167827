"""The benchmark: a synthetic corpus through the real loader, the real server under wrk, and in the same
run the ceiling (precomputed bytes from a bare Starlette app) and Datasette on the same database."""

import os
from pathlib import Path

WORK = Path(os.environ.get("BENCH_WORK", "/tmp/newsfacts-bench"))  # the corpora, their paths and logs
