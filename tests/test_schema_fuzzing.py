"""Schemathesis against the app's own OpenAPI schema, in-process: every operation, the examples,
coverage and fuzzing phases, every default check, a fixed seed (schemathesis.toml)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from app.main import create_app
from tests.conftest import FIXTURE_SEEDS, REAL_SEEDS, copy_seeds
from tests.schemathesis_hooks import without_random_cursor

pytestmark = pytest.mark.slow


def _app() -> Any:
    """The app over its own freshly loaded database (schemathesis loads the schema at import time)."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    from app.loader import load
    from app.settings import load_settings

    assert REAL_SEEDS.exists()
    assert FIXTURE_SEEDS.exists()
    folder = Path(tempfile.mkdtemp(prefix="newsfacts-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    settings = load_settings(
        database_url=f"sqlite:///{folder / 'fuzz.db'}",
        seeds_dir=copy_seeds(folder / "seeds"),
        log_level="warning",
    )
    load(settings)
    return create_app(settings)


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
def test_every_operation_holds_to_its_schema(case: Any) -> None:
    response = without_random_cursor(case).call_and_validate()
    assert response.status_code < 500
