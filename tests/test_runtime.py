"""The server only reads, and no request can hold it: read-only connections and a time budget."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.database import QueryTimeout
from app.main import create_app
from app.settings import Settings
from tests.conftest import synthetic_settings_in

pytestmark = pytest.mark.anyio


async def test_a_write_through_the_apps_own_connection_fails(backend_settings: Settings) -> None:
    app = create_app(backend_settings)
    database = app.state.database
    async with app.router.lifespan_context(app):
        async with database.snapshot() as snapshot:
            before = await snapshot.all("SELECT count(*) FROM person")
        for statement in (
            "INSERT INTO dataset (key, value) VALUES ('intruder', 'x')",
            "DELETE FROM person",
            "UPDATE quote SET text = 'changed'",
            "DROP TABLE evidence",
        ):
            with pytest.raises(Exception, match=r"(?i)read-?only") as caught:
                async with database.snapshot() as snapshot:
                    await snapshot.all(statement)
            assert "QueryTimeout" not in repr(caught.value)
        async with database.snapshot() as snapshot:
            assert await snapshot.all("SELECT count(*) FROM person") == before
            if backend_settings.backend == "sqlite":
                assert await snapshot.all("PRAGMA query_only") == [(1,)]


@pytest.fixture(scope="module")
def synthetic_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A few thousand synthetic facts: enough for a search to take many SQLite steps."""
    return synthetic_settings_in(tmp_path_factory.mktemp("synthetic"), 40)


async def test_a_request_over_its_time_budget_gets_503_and_the_server_goes_on(
    synthetic_settings: Settings,
) -> None:
    app = create_app(synthetic_settings.model_copy(update={"request_timeout": 1e-6}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        slow, health = await asyncio.gather(client.get("/search", params={"q": "the"}), client.get("/health"))
        assert slow.status_code == 503
        assert slow.json()["code"] == "timeout"
        assert slow.headers["retry-after"] == "1"
        assert health.status_code == 200
        assert (await client.get("/search", params={"q": "the"})).status_code == 503


async def test_postgres_statements_are_cut_off_at_the_budget(postgres_settings: Settings) -> None:
    app = create_app(postgres_settings.model_copy(update={"request_timeout": 0.2}))
    async with app.router.lifespan_context(app):
        with pytest.raises(QueryTimeout):
            async with app.state.database.snapshot() as snapshot:
                await snapshot.all("SELECT pg_sleep(2)")
        async with app.state.database.snapshot() as snapshot:
            assert await snapshot.all("SELECT 1") == [(1,)]
