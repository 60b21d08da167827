"""newsfacts: the structured facts of news articles, each traceable to the words of its source."""

import hashlib
import json
import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# numpy's OpenBLAS starts a thread per core when imported; the API does no linear algebra, and those
# threads would only compete with the event loop for the core it runs on.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"


def compiled_modules(here: Path = Path(__file__).parent) -> list[str]:
    """The package's modules that run compiled (`setup.py`), each checked against the source it was
    compiled from: a compiled module is imported instead of its source, so one whose source has changed
    since is refused, and the package does not start."""
    stamp = here / "compiled.json"
    if not stamp.exists():
        return []
    compiled = []
    for name, digest in json.loads(stamp.read_bytes()).items():
        if not any((here / f"{name}{suffix}").exists() for suffix in EXTENSION_SUFFIXES):
            continue
        if hashlib.sha256((here / f"{name}.py").read_bytes()).hexdigest() != digest:
            # Exits with the message alone: `python -m app …` prints it without a traceback.
            raise SystemExit(
                f"newsfacts: app/{name}.py has changed since it was compiled: compile it again with `make test` or "
                "`make run`, or `.venv/bin/python -m pip install --no-deps --no-build-isolation -e .` "
                "(with NEWSFACTS_COMPILE=0 before it, the request path runs as Python, uncompiled)"
            )
        compiled.append(name)
    return compiled


COMPILED = compiled_modules()
