"""The two pages people look at, in a real browser (headless Debian Chromium driven by Playwright):
the docs pages work offline under the app's CSP, and the annotated article shows every fact."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.settings import PROJECT_DIR, Settings
from tests.conftest import ARTICLE
from tests.live_server import live_server

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("NEWSFACTS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = PROJECT_DIR / "test-artifacts"


@pytest.fixture(scope="module")
def server(sqlite_settings: Settings) -> Iterator[str]:
    with live_server(sqlite_settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("NEWSFACTS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"NEWSFACTS_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"browser tests need Chromium (apt-get install chromium); none at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A page that may reach the app and nothing else; what it tried to reach is in `page.outside`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.outside = []
    page.console_errors = []

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(server):
            request_route.continue_()
        else:
            page.outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    context.close()


def _shot(page: Any, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_docs_try_it_out_runs_the_quotes_filter_offline(page: Any, server: str) -> None:
    page.goto(f"{server}/docs")
    page.wait_for_selector("#operations-quotes-list_quotes", timeout=20_000)
    operations = sum(len(methods) for methods in httpx.get(f"{server}/openapi.json").json()["paths"].values())
    assert page.locator(".opblock").count() == operations == 18
    block = "#operations-quotes-list_quotes"
    page.click(f"{block} .opblock-summary")
    page.click(f"{block} .try-out__btn")
    page.fill(f'{block} tr[data-param-name="speaker"] input', "pavel-kulazhanka")
    page.click(f"{block} .execute")
    body = page.locator(f"{block} .live-responses-table .response-col_description .highlight-code")
    body.wait_for(timeout=10_000)
    text = body.inner_text()
    assert "Without an independent Ukraine, there will be no independent Belarus" in text
    assert "Ukraine is my first stop. The second stop will be Belarus." in text
    assert '"total": 2' in text
    _shot(page, "docs-try-it-out")
    assert page.outside == []


def test_redoc_renders_offline(page: Any, server: str) -> None:
    page.goto(f"{server}/redoc")
    page.locator("h2", has_text="List quotes").wait_for(timeout=20_000)
    assert page.locator("h2", has_text="One person by id").count() == 1
    assert page.locator("h2", has_text="Search everything").count() == 1
    _shot(page, "redoc")
    assert page.outside == []


def _expected_highlights(server: str) -> dict[str, int]:
    """What the API says the article holds: its quotes, figures and the passages mentioning the rest."""
    expected = {}
    for kind, path in (("person", "people"), ("unit", "units"), ("place", "places"), ("event", "events")):
        records = httpx.get(f"{server}/{path}", params={"article": ARTICLE, "limit": 500}).json()["items"]
        expected[kind] = sum(
            1 for r in records for e in r["evidence"] if e["field"] == "mention" and e["article"] == ARTICLE
        )
    for kind, path in (("quote", "quotes"), ("figure", "figures")):
        expected[kind] = httpx.get(f"{server}/{path}", params={"article": ARTICLE}).json()["total"]
    return expected


def test_annotated_article_shows_one_highlight_per_fact(page: Any, server: str) -> None:
    page.goto(f"{server}/articles/{ARTICLE}")
    counts = {
        kind: page.locator(f".hl.k-{kind}[data-first]").count()
        for kind in ("person", "unit", "place", "event", "quote", "figure")
    }
    assert counts == _expected_highlights(server)
    assert counts["quote"] == 10
    assert page.locator(".hl.inferred[data-first]").count() > 0
    text = page.locator("article.text").inner_text()
    assert text.replace("\r", "") == httpx.get(f"{server}/articles/{ARTICLE}/text").text
    _shot(page, "article", full_page=True)
    assert page.outside == []
    assert page.console_errors == []


def test_tooltip_of_the_first_quote_names_kulazhanka(page: Any, server: str) -> None:
    page.goto(f"{server}/articles/{ARTICLE}")
    first_quote = page.locator(".hl.k-quote[data-first]").first
    assert first_quote.inner_text().startswith("Without an independent Ukraine")
    first_quote.hover()
    tooltip = page.locator(".tip:not([hidden])")
    tooltip.wait_for()
    assert "Pavel Kulazhanka" in tooltip.inner_text()
    assert "stated in the text" in tooltip.inner_text()
    _shot(page, "article-tooltip")
    page.keyboard.press("Escape")
    # Keyboard users reach the same description by focus.
    first_quote.focus()
    assert "Pavel Kulazhanka" in page.locator(".tip:not([hidden])").inner_text()


def test_toggling_quotes_hides_their_highlights(page: Any, server: str) -> None:
    page.goto(f"{server}/articles/{ARTICLE}")
    quote = page.locator(".hl.k-quote[data-first]").first
    assert quote.evaluate("e => getComputedStyle(e).borderBottomStyle") == "solid"
    page.locator('.toggle input[data-kind="quote"]').uncheck()
    assert page.locator(".hl.k-quote.off").count() == page.locator(".hl.k-quote").count()
    assert quote.evaluate("e => getComputedStyle(e).borderBottomColor") == "rgba(0, 0, 0, 0)"
    assert quote.get_attribute("tabindex") == "-1"
    assert page.locator(".hl.k-person.off").count() == 0
    page.locator('.toggle input[data-kind="quote"]').check()
    assert page.locator(".hl.k-quote.off").count() == 0


def test_clicking_a_person_opens_their_json(page: Any, server: str) -> None:
    page.goto(f"{server}/articles/{ARTICLE}")
    person = page.locator(".hl.k-person[data-first]", has_text="One of these men is Pavel Kulazhanka")
    person.click(position={"x": 5, "y": 5})
    page.wait_for_url(f"{server}/people/pavel-kulazhanka")
    shown = orjson.loads(page.locator("pre").first.inner_text())
    assert shown["name"] == "Pavel Kulazhanka"
    assert shown["age"] == 36


def test_article_is_readable_on_a_phone(page: Any, server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/articles/{ARTICLE}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.locator(".hl.k-quote[data-first]").first.focus()
    tip = page.locator(".tip:not([hidden])")
    box = tip.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    _shot(page, "article-phone")
