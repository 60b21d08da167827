"""GET /articles: the sources, what is known about them, and their exact text."""

import hashlib

import httpx
import pytest

from tests.conftest import ARTICLE, ARTICLE_TEXT, REAL_SEEDS, ids

pytestmark = pytest.mark.anyio


async def test_article_metadata_marks_what_is_inferred(client: httpx.AsyncClient) -> None:
    article = (await client.get(f"/articles/{ARTICLE}")).json()
    assert article["author"] == "Heiko Roloff"
    assert article["outlet"] == "BILD"
    assert article["length"] == 4033
    assert article["published"]["start"] == "2022-04-08"
    assert article["published"]["certainty"] == "inferred"
    inferred = {i["field"] for i in article["inferred"]}
    assert {"title", "outlet", "published", "original_language"} <= inferred
    assert "author" not in inferred
    assert article["counts"]["quote"] == 10


async def test_text_is_the_source_byte_for_byte(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/articles/{ARTICLE}/text")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == (REAL_SEEDS / ARTICLE / "article.txt").read_bytes()
    assert (
        hashlib.sha256(response.content).hexdigest()
        == (await client.get(f"/articles/{ARTICLE}")).json()["sha256"]
    )
    assert response.text == ARTICLE_TEXT


async def test_articles_list_by_publication_date(client: httpx.AsyncClient) -> None:
    assert ids(await client.get("/articles")) == [ARTICLE, "test-fixture-article"]
    assert ids(await client.get("/articles", params={"sort": "-published"})) == [
        "test-fixture-article",
        ARTICLE,
    ]


async def test_text_of_unknown_article_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/articles/no-such-article/text")
    assert response.status_code == 404
    assert "`no-such-article`" in response.json()["detail"]
