"""The request path's modules run compiled by mypyc (`setup.py`), never from a source they no longer match,
and give the same answers under Python's debug allocator.

The whole suite runs against whatever the install compiled; with NEWSFACTS_REQUIRE_COMPILED=1 (as in CI),
it fails unless every module `setup.py` names runs compiled, so CI tests what the image serves.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import runpy
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import httpx
import pytest

import app
from app import compiled_modules
from app.main import create_app
from app.settings import PROJECT_DIR, Settings
from tests.live_server import live_server

SO = EXTENSION_SUFFIXES[0]


def _package(folder: Path, compiled_from: bytes, source: bytes, built: bool = True) -> Path:
    (folder / "compiled.json").write_text(json.dumps({"edge": hashlib.sha256(compiled_from).hexdigest()}))
    (folder / "edge.py").write_bytes(source)
    if built:
        (folder / f"edge{SO}").write_bytes(b"")
    return folder


def test_a_module_compiled_from_its_current_source_runs_compiled(tmp_path: Path) -> None:
    assert compiled_modules(_package(tmp_path, b"x = 1\n", b"x = 1\n")) == ["edge"]


def test_a_module_whose_source_changed_since_it_was_compiled_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"app/edge\.py has changed since it was compiled: .*make test"):
        compiled_modules(_package(tmp_path, b"x = 1\n", b"x = 2\n"))


def test_without_a_compiled_module_its_source_runs(tmp_path: Path) -> None:
    assert compiled_modules(_package(tmp_path, b"x = 1\n", b"x = 2\n", built=False)) == []
    assert compiled_modules(tmp_path / "nowhere") == []


def test_the_modules_the_build_names_are_those_that_run_compiled() -> None:
    named = runpy.run_path(str(PROJECT_DIR / "setup.py"), run_name="not_main")["COMPILED"]
    if os.environ.get("NEWSFACTS_REQUIRE_COMPILED") != "1" and not app.COMPILED:
        pytest.skip("this install runs the request path as Python (NEWSFACTS_COMPILE=0, or no compiler)")
    assert named == app.COMPILED
    for name in named:
        assert importlib.import_module(f"app.{name}").__file__.endswith(SO)  # type: ignore[union-attr]


def test_the_command_line_names_a_stale_module_without_a_traceback(tmp_path: Path) -> None:
    if not app.COMPILED:
        pytest.skip("this install runs the request path as Python: nothing compiled to go stale")
    shutil.copytree(PROJECT_DIR / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    source = tmp_path / "app" / f"{app.COMPILED[0]}.py"
    source.write_text(source.read_text() + "# edited after it was compiled\n")
    result = subprocess.run(
        [sys.executable, "-m", "app", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"app/{app.COMPILED[0]}.py has changed since it was compiled" in result.stderr
    assert "make test" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.anyio
async def test_the_server_says_at_start_whether_it_runs_compiled(
    sqlite_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    api = create_app(sqlite_settings.model_copy(update={"log_level": "info"}))
    async with api.router.lifespan_context(api):
        pass
    said = f"compiled by mypyc ({len(app.COMPILED)} modules)" if app.COMPILED else "as Python, uncompiled"
    assert f"the request path runs {said}" in capsys.readouterr().err


# A page of each kind the compiled request path serves: a filtered list, a record, a list with its next
# page by cursor, a search, a CSV page.
DEBUG_PATHS = [
    "/quotes?speaker=julie-fischer",
    "/quotes/fischer-majority-against-war",
    "/people?limit=5",
    "/search?q=Fischer",
    "/quotes?format=csv&limit=500",
]


@pytest.mark.anyio
async def test_served_under_pythons_debug_allocator_the_answers_are_the_same(
    sqlite_settings: Settings, sqlite_client: httpx.AsyncClient
) -> None:
    """The debug allocator overwrites memory as it frees it, so compiled code (or a library it hands its
    objects to) that reads what it has let go of answers differently or crashes, where the ordinary
    allocator often leaves the old value in place. Served so, every answer is byte for byte the ordinary
    app's (but for the host in its links): Julie Fischer's quote, found by her, by its id and by search."""
    second_page = (await sqlite_client.get("/people?limit=5")).json()["next"]
    paths = [*DEBUG_PATHS, second_page.removeprefix("http://testserver")]
    with live_server(sqlite_settings, extra_env={"PYTHONMALLOC": "pymalloc_debug"}) as base:
        for path in paths:
            served, expected = httpx.get(base + path, timeout=30), await sqlite_client.get(path)
            assert expected.status_code == 200, path
            body = served.content.replace(base.encode(), b"http://testserver")
            assert (served.status_code, body) == (200, expected.content), path
    quotes = (await sqlite_client.get(DEBUG_PATHS[0])).json()["items"]
    assert [q["text"] for q in quotes] == [
        "Unlike in Russia, the vast majority of people in Belarus are against Putin’s war in Ukraine."
    ]
    found = (await sqlite_client.get(DEBUG_PATHS[3])).json()["items"]
    assert "fischer-majority-against-war" in {hit["id"] for hit in found}
