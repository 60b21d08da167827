"""The package's build: setuptools, with the modules every request runs through, and the loader's
document builder, compiled by mypyc.

`pip install -e .` (what the Makefile and the Dockerfile run) compiles them beside their sources, with
mypyc (it comes with mypy, in `requirements/build.in`) and the machine's C compiler. Compiled, the API
serves ~9 % more cold lists a second (BENCH.md, the thirty-first round), and a load of the benchmark's 1M
corpus takes ~1.5 s less (the thirty-ninth round). The same source runs as Python
with `NEWSFACTS_COMPILE=0`, or where there is no C compiler or no mypy: the build says so, removes what an
earlier build compiled, and the server says at start which it runs.

`app/compiled.json` records the hash of each compiled module's source: `app/__init__.py` refuses to
import a compiled module whose source has changed since (the Makefile's targets compile it again).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

from setuptools import setup

# The modules that mypyc compiles and that behave the same compiled: the request path's, the loader's check of
# the seeds (`dataset`), and the records' documents and CSV lines it builds (`documents`, `tabular`, which
# search's CSV uses too). Not compiled:
# modules with async generators or `break` in `try`/`finally` (which mypyc does not implement: `main`,
# `database`), those whose classes are pydantic models or exceptions with class attributes (`params`,
# `pagination`, `errors`). (`search_index` is compiled since the forty-seventh round: a compiled dataclass
# takes no field annotated `object`, nor a class attribute, which its `dataset` and `SEPARATOR` were.)
COMPILED = [
    "dataset",
    "dialects",
    "documents",
    "edge",
    "fast_path",
    "folding",
    "formats",
    "headlines",
    "http_cache",
    "queries",
    "responses",
    "search_index",
    "snippets",
    "tabular",
    "transport",
]
GROUP = "app.compiled"  # the shared library's name: app/compiled__mypyc.*.so
APP = Path(__file__).resolve().parent / "app"
STAMP = APP / "compiled.json"
BUILDING = {"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"}


def _remove_compiled() -> None:
    """An earlier build's compiled modules would otherwise go on running instead of their sources."""
    for name in [*COMPILED, f"{GROUP.rpartition('.')[2]}__mypyc"]:
        for suffix in EXTENSION_SUFFIXES:
            (APP / f"{name}{suffix}").unlink(missing_ok=True)
    STAMP.unlink(missing_ok=True)


def _extensions() -> list[Any]:
    if not BUILDING.intersection(sys.argv):
        return []  # pip asks for the metadata first, by separate runs: compiling takes ~60 s
    reason = None
    if os.environ.get("NEWSFACTS_COMPILE", "1") == "0":
        reason = "NEWSFACTS_COMPILE=0"
    elif shutil.which(os.environ.get("CC", "cc")) is None:
        reason = "no C compiler (cc)"
    else:
        try:
            from mypyc.build import mypycify
        except ImportError:
            reason = "no mypyc (pip install mypy)"
    _remove_compiled()
    if reason is not None:
        print(f"newsfacts: the request path runs as Python, uncompiled: {reason}", file=sys.stderr)
        return []
    sources = {name: (APP / f"{name}.py").read_bytes() for name in COMPILED}
    STAMP.write_text(json.dumps({name: hashlib.sha256(text).hexdigest() for name, text in sources.items()}))
    return mypycify([f"app/{name}.py" for name in COMPILED], opt_level="3", group_name=GROUP)


if __name__ == "__main__":  # as setuptools runs it (the tests read `COMPILED` without building)
    setup(ext_modules=_extensions())
