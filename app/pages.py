"""HTML pages: the offline docs pages and the annotated article.

The article page shows the exact text with one highlight per fact: a quote's or a figure's own words,
and each passage that mentions a person, unit, place or event. Highlights that overlap are split into
nested pieces at every boundary, so any overlap renders; the first piece of each fact is the one that takes
focus and describes it. Everything is server-rendered; a small script (a file, so the CSP needs no
inline code) shows the descriptions as tooltips, toggles kinds and opens a fact's JSON on click.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from html import escape
from typing import Any

from app.queries import PATHS

KINDS = ("person", "unit", "place", "event", "quote", "figure")


@dataclass(frozen=True)
class Highlight:
    number: int
    kind: str
    ident: str
    start: int
    end: int
    certainty: str
    note: str | None


def _page(title: str, head: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        f"{head}</head><body>{body}</body></html>"
    )


def swagger_page() -> str:
    return _page(
        "newsfacts — API documentation",
        '<link rel="stylesheet" href="/static/docs/swagger-ui.css">',
        '<div id="swagger-ui"></div><script src="/static/docs/swagger-ui-bundle.js"></script>'
        '<script src="/static/docs.js"></script>',
    )


def redoc_page() -> str:
    return _page(
        "newsfacts — API reference",
        "",
        '<redoc spec-url="/openapi.json"></redoc><script src="/static/docs/redoc.standalone.js"></script>',
    )


def _line(label: str, value: Any) -> str:
    if value in (None, "", []):
        return ""
    return f"<dt>{escape(label)}</dt><dd>{escape(str(value))}</dd>"


def _inferred_note(doc: dict[str, Any], field: str) -> str:
    for item in doc.get("inferred", []):
        if item["field"] == field:
            return f" (inferred: {item['note']})"
    return ""


def _describe(kind: str, doc: dict[str, Any]) -> tuple[str, str]:
    """The fact's title and a definition list of what the record says."""
    if kind == "person":
        units = "; ".join(f"{u['role']} of {u['name']}" for u in doc["units"])
        relations = "; ".join(f"{r['role']} to {r['name']}" for r in doc["relations"])
        age = f"{doc['age']}{_inferred_note(doc, 'age')}" if doc["age"] is not None else None
        nationality = (
            f"{doc['nationality']}{_inferred_note(doc, 'nationality')}" if doc["nationality"] else None
        )
        rows = _line("who", doc["description"]) + _line("age", age) + _line("nationality", nationality)
        return doc["name"], rows + _line("units", units) + _line("relations", relations)
    if kind == "unit":
        size = doc["size"]["text"] if doc["size"] else None
        rows = _line("what", doc["description"]) + _line("kind", doc["kind"])
        rows += _line("members from", (doc["country"] or "") + _inferred_note(doc, "country"))
        rows += _line(
            "fights for", (doc["side"] or "") + _inferred_note(doc, "side") if doc["side"] else None
        )
        return doc["name"], rows + _line("size", size)
    if kind == "place":
        return doc["name"], _line("kind", doc["kind"]) + _line("country", doc["country"])
    if kind == "event":
        date = doc["date"]
        when = date["text"] or ""
        if date["start"]:
            span = (
                date["start"]
                if date["start"] == date["end"]
                else f"{date['start']} – {date['end'] or 'ongoing'}"
            )
            when = f"{when} ({span})" if when else span
        if date["certainty"] == "inferred":
            when += f"; inferred: {date['note']}"
        where = ", ".join(p["name"] for p in doc["places"])
        who = "; ".join(f"{p['name']} ({p['role']})" for p in doc["participants"])
        return doc["title"], _line("when", when) + _line("where", where) + _line("who", who)
    if kind == "quote":
        speaker = doc["speaker"]["name"] if doc["speaker"] else doc["speaker_description"]
        if doc["anonymous"] and doc["speaker_description"]:
            speaker = f"{speaker} — {doc['speaker_description']} (not named in the article)"
        if doc["certainty"] == "inferred":
            speaker = f"{speaker} (attribution inferred: {doc['note']})"
        rows = _line("said by", speaker) + _line("to", doc["addressee"]) + _line("medium", doc["medium"])
        return f"Quote: {doc['speaker']['name'] if doc['speaker'] else 'unnamed speaker'}", rows
    amount = doc["amount"] if doc["amount"] is not None else doc["lower"]
    rows = _line("counts", doc["counts"]) + _line("qualifier", doc["qualifier"]) + _line("number", amount)
    return f"Figure: {doc['text']}", rows


def _pieces(text: str, highlights: list[Highlight]) -> str:
    """The text with each highlight as one or more nested spans, split wherever highlights cross."""
    bounds = sorted({0, len(text), *(h.start for h in highlights), *(h.end for h in highlights)})
    ordered = sorted(highlights, key=lambda h: (h.start, -h.end, h.number))
    out = []
    for left, right in itertools.pairwise(bounds):
        covering = [h for h in ordered if h.start <= left and h.end >= right]
        opening = []
        for depth, h in enumerate(covering):
            classes = f"hl k-{h.kind}" + (" inferred" if h.certainty == "inferred" else "")
            attributes = f'class="{classes}" data-fact="{h.number}" data-depth="{min(depth, 4)}"'
            if h.start == left:
                attributes += (
                    f' data-first="1" tabindex="0" role="link" aria-describedby="tip-{h.number}"'
                    f' data-href="/{PATHS[h.kind]}/{escape(h.ident)}"'
                )
            opening.append(f"<span {attributes}>")
        out.append("".join(opening) + escape(text[left:right]) + "</span>" * len(covering))
    return "".join(out)


def article_page(
    article: dict[str, Any], text: str, highlights: list[Highlight], docs: dict[tuple[str, str], Any]
) -> str:
    counts = dict.fromkeys(KINDS, 0)
    tips = []
    for h in highlights:
        counts[h.kind] += 1
        title, rows = _describe(h.kind, docs[(h.kind, h.ident)])
        certainty = "inferred" if h.certainty == "inferred" else "stated"
        basis = f"{certainty} in the text" + (f": {h.note}" if h.note else "")
        tips.append(
            f'<div class="tip" role="tooltip" id="tip-{h.number}" hidden>'
            f'<strong>{escape(title)}</strong><span class="kind">{h.kind}</span>'
            f"<dl>{rows}{_line('this passage', basis)}</dl>"
            f'<p class="open">Open the {h.kind}’s JSON: /{PATHS[h.kind]}/{escape(h.ident)}</p></div>'
        )
    legend = "".join(
        f'<label class="toggle k-{kind}"><input type="checkbox" checked data-kind="{kind}"> '
        f'<span class="swatch"></span>{PATHS[kind]} <span class="count">{counts[kind]}</span></label>'
        for kind in KINDS
    )
    published = article["published"]
    date = published["start"] or "unknown"
    if published["end"] and published["end"] != published["start"]:
        date = f"between {published['start']} and {published['end']}"
    inferred_fields = {i["field"]: i["note"] for i in article["inferred"]}

    def meta(label: str, field: str, value: Any) -> str:
        note = inferred_fields.get(field)
        shown = escape(str(value)) if value else "unknown"
        marker = (
            f' <abbr class="inferred-mark" tabindex="0" title="{escape(note)}">inferred</abbr>'
            if note
            else ""
        )
        return f"<div><dt>{label}</dt><dd>{shown}{marker}</dd></div>"

    body = (
        '<header><p class="crumbs"><a href="/docs">newsfacts API</a> · '
        f'<a href="/articles/{escape(article["id"])}?format=json" data-json="1">this article as JSON</a></p>'
        f"<h1>{escape(article['title'])}</h1>"
        '<dl class="meta">'
        + meta("By", "author", article["author"])
        + meta("Outlet", "outlet", article["outlet"])
        + meta("Published", "published", date)
        + meta("Language", "language", article["language"])
        + "</dl></header>"
        '<section class="legend" aria-label="Kinds of facts"><h2>Facts in this text</h2>'
        f'<div class="toggles">{legend}</div>'
        '<p class="key"><span class="hl k-person">solid</span>: stated by the text. '
        '<span class="hl k-person inferred">dashed</span>: inferred (the tooltip says why). '
        "Hover or focus a highlight to see the fact; click it or press Enter for its JSON.</p></section>"
        f'<main><article class="text" lang="{escape(article["language"])}">{_pieces(text, highlights)}</article></main>'
        f'<div class="tips">{"".join(tips)}</div>'
        "<footer><p>Offsets are Unicode code points into "
        f'<a href="/articles/{escape(article["id"])}/text">the exact text</a>.</p></footer>'
    )
    return _page(
        f"{article['title']} — newsfacts",
        '<link rel="stylesheet" href="/static/article.css"><script src="/static/article.js" defer></script>',
        body,
    )
