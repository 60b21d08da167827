"""Each scenario's paths, drawn from a loaded corpus in a fixed order: what `python -m bench` sends with wrk
and `python -m bench.inprocess` sends through the app."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote_plus

from app.pagination import Cursor
from app.params import QuoteParams
from bench.corpus import COMMON_WORDS, VOCABULARY


def _cursor(db: sqlite3.Connection, position: int) -> str:
    """The cursor of the quotes' default order at `position` (what following `next` links would give)."""
    keys = db.execute(
        "SELECT article_id, start, id FROM quote ORDER BY article_id, start, id LIMIT 1 OFFSET ?",
        (position - 1,),
    ).fetchone()
    return Cursor(position, list(keys)).encode(QuoteParams())


def sample(database: Path) -> dict[str, list[str]]:
    """Paths for each scenario, drawn from the database in a fixed order (deterministic).

    Search asks what a fact-checker asks: a person's or a unit's name, or a content word of middle or
    low frequency. The most common words (`war`, `people`) match a large share of every quote; they are
    measured on their own, as `search_common`.
    """
    with sqlite3.connect(database) as db:
        speakers = [
            r[0]
            for r in db.execute(
                "SELECT speaker_id FROM quote GROUP BY speaker_id ORDER BY count(*) DESC, speaker_id"
            )
        ]
        quotes = [r[0] for r in db.execute("SELECT id FROM quote ORDER BY id")]
        people = [r[0] for r in db.execute("SELECT name FROM person ORDER BY id")][:300]
        units = [r[0] for r in db.execute("SELECT name FROM unit ORDER BY id")][:100]
        total = len(quotes)
        deep_positions = range(int(total * 0.9), total - 10, max(1, total // 400))
        deep = [_cursor(db, position) for position in deep_positions][:50]
        csv = [_cursor(db, position) for position in range(500, total - 500, max(500, total // 100))][:100]
    words = VOCABULARY[len(COMMON_WORDS) + 50 : len(COMMON_WORDS) + 2000 : 20]
    search = [f"/search?q={quote_plus(name)}" for name in people + units] + [f"/search?q={w}" for w in words]
    return {
        "hot": [f"/quotes?speaker={speakers[0]}"],
        "cold": [f"/quotes?speaker={s}" for s in speakers],
        "detail": [f"/quotes/{q}" for q in quotes[:: max(1, total // 2000)]],
        "search": search,
        "search_common": [f"/search?q={w}" for w in ("war", "people", "freedom", "country", "soldiers")],
        "csv": [f"/quotes?limit=500&format=csv&cursor={c}" for c in csv],
        "deep": [f"/quotes?limit=10&cursor={c}" for c in deep],
        "datasette": [
            f"/{database.stem}/quote.json?speaker_id={s}&_shape=objects&_size=50&_sort=id" for s in speakers
        ],
    }
