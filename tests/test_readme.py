"""The README's tour works as written: every command in it, run against a live server."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from app.settings import PROJECT_DIR, Settings
from tests.live_server import live_server

pytestmark = pytest.mark.slow
README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")


def _tour() -> list[str]:
    section = README.split("## A quick tour", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_the_tour_commands_answer_as_the_readme_says(real_settings: Settings, tmp_path: Path) -> None:
    commands = _tour()
    assert len(commands) >= 12
    with live_server(real_settings) as base:
        # Each command as written, then a newline, so that each JSON body is a line of its own.
        script = "set -eu\n" + "".join(f"{c}\necho\n" for c in commands).replace(
            "http://127.0.0.1:8000", base
        )
        result = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 0, result.stderr
    outputs = [line for line in result.stdout.splitlines() if line.strip()]
    # Every curl printed a JSON body, except the last, which printed the status of the conditional request.
    assert outputs[-1] == "304"
    for line in outputs[:-1]:
        body = json.loads(line)
        assert "items" in body or "id" in body, line[:200]
    kulazhanka = [json.loads(line) for line in outputs[:-1] if '"speaker":{"id":"pavel-kulazhanka"' in line]
    assert kulazhanka, "the tour shows Kulazhanka's quotes"
    assert (tmp_path / "people.csv").read_text().startswith("id,name,aliases,age")


def test_the_example_response_is_what_the_api_gives(real_settings: Settings) -> None:
    import httpx

    example = json.loads(README.split("(shortened):\n\n```json\n", 1)[1].split("```", 1)[0])
    with live_server(real_settings) as base:
        person = httpx.get(f"{base}/people/pavel-kulazhanka").json()
    for key, value in example.items():
        if isinstance(value, list):
            for item in value:
                assert item in person[key], (key, item)
        else:
            assert person[key] == value, key


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from app.loader import load
    from app.settings import load_settings
    from tests.conftest import REAL_SEEDS

    settings = load_settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('readme') / 'newsfacts.db'}", seeds_dir=REAL_SEEDS
    )
    load(settings)
    return settings
