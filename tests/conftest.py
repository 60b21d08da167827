"""Shared fixtures: seeds (the real article plus the tests' own), databases built by the real loader,
and the app driven in-process through httpx.

API tests run once per backend: SQLite always; PostgreSQL when NEWSFACTS_TEST_POSTGRES_URL names a
database the tests may overwrite. Without it the PostgreSQL runs are skipped, saying why; with
NEWSFACTS_REQUIRE_POSTGRES=1 (as in CI) a missing server fails the run instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.loader import load
from app.main import create_app
from app.settings import PROJECT_DIR, Settings, load_settings
from bench.corpus import generate

REAL_SEEDS = PROJECT_DIR / "seeds"
FIXTURE_SEEDS = Path(__file__).parent / "fixtures" / "seeds"
ARTICLE = "belarusian-russian-volunteers-ukraine-2022"
ARTICLE_TEXT = (REAL_SEEDS / ARTICLE / "article.txt").read_text(encoding="utf-8")
POSTGRES_URL = os.environ.get("NEWSFACTS_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("NEWSFACTS_REQUIRE_POSTGRES") == "1"


def copy_seeds(target: Path, *, fixture: bool = True) -> Path:
    """A writable seeds folder: the real article, and the tests' fixture article beside it."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in REAL_SEEDS.iterdir():
        if folder.is_dir():
            shutil.copytree(folder, target / folder.name)
    if fixture:
        for folder in FIXTURE_SEEDS.iterdir():
            shutil.copytree(folder, target / folder.name)
    return target


def synthetic_settings_in(folder: Path, articles: int) -> Settings:
    """Settings for a loaded SQLite database of `articles` synthetic articles (bench.corpus), in `folder`."""
    settings = load_settings(
        database_url=f"sqlite:///{folder / 'synthetic.db'}",
        seeds_dir=generate(folder / "seeds", articles),
        log_level="warning",
    )
    load(settings)
    return settings


def postgres_or_skip() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if REQUIRE_POSTGRES:
        pytest.fail("NEWSFACTS_REQUIRE_POSTGRES=1 but NEWSFACTS_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL tests need NEWSFACTS_TEST_POSTGRES_URL (a database they may overwrite)")


@pytest.fixture
def schema_url() -> Iterator[str]:
    """The test database, with a fresh schema first on the search path."""
    with fresh_schema() as url:
        yield url


@contextmanager
def fresh_schema() -> Iterator[str]:
    """The test database's URL with a schema of its own first on the search path, dropped afterwards."""
    base = postgres_or_skip()
    schema = f"loadtest_{secrets.token_hex(4)}"
    conninfo = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    # The text-search configuration and the extensions live in public, shared by every schema.
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema},public"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_seeds(tmp_path_factory.mktemp("seeds") / "seeds")


@pytest.fixture(scope="session")
def sqlite_settings(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Settings:
    database = tmp_path_factory.mktemp("db") / "newsfacts.db"
    settings = load_settings(database_url=f"sqlite:///{database}", seeds_dir=seeds_dir, log_level="warning")
    load(settings)
    return settings


@pytest.fixture(scope="session")
def postgres_settings(seeds_dir: Path) -> Settings:
    settings = load_settings(database_url=postgres_or_skip(), seeds_dir=seeds_dir, log_level="warning")
    load(settings)
    return settings


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    name = "sqlite_settings" if request.param == "sqlite" else "postgres_settings"
    settings: Settings = request.getfixturevalue(name)
    return settings


async def api_client(settings: Settings, *, fast_path: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client over a started app (lifespan run), for fixtures to wrap."""
    app = create_app(settings, fast_path=fast_path)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture(scope="session")
async def client(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the real article and the fixture, on each backend."""
    async for client in api_client(backend_settings):
        yield client


@pytest.fixture(scope="session")
async def sqlite_client(sqlite_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in api_client(sqlite_settings):
        yield client


def items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["items"]  # type: ignore[no-any-return]


def ids(response: httpx.Response) -> list[str]:
    return [item["id"] for item in items(response)]


@pytest.fixture
def tmp_seeds(tmp_path: Path) -> Path:
    """A private, writable copy of the real seeds (without the fixture) for tests that break them."""
    return copy_seeds(tmp_path / "seeds", fixture=False)
